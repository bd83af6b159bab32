"""Erlang B (lost calls cleared): the channel recommendation of the coincidence reports
(anchors §2.4: B(A,0) = 1, B(A,k) = A·B(A,k−1) / (k + A·B(A,k−1)), the stable recursion)."""

from __future__ import annotations


def blocking(traffic: float, channels: int) -> float:
    """B(A, N): the probability that a call offered A Erlangs finds all N channels busy."""
    b = 1.0
    for k in range(1, channels + 1):
        b = traffic * b / (k + traffic * b)
    return b


def channels_for(traffic: float, gos: float = 0.01) -> int:
    """The smallest N with B(A, N) <= gos; 0 when there is no traffic."""
    if traffic <= 0:
        return 0
    if not 0 < gos < 1:
        raise ValueError(f"grade of service must be in (0, 1), got {gos}")
    b, n = 1.0, 0
    while b > gos:
        n += 1
        b = traffic * b / (n + traffic * b)
    return n
