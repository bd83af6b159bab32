"""Agents needed for a service level: Erlang C (callers wait as long as it takes) and Erlang A
(callers abandon after an exponential patience), anchors §2.5.

Notation: λ arrivals per second, AHT the average handle time (s), μ = 1 / AHT, A = λ · AHT the
offered traffic (Erlangs), N agents, t the service-level threshold (s), θ = 1 / mean patience.

Erlang C (M/M/N):
    B(A, N) by the recursion B(A,0) = 1, B(A,k) = A·B(A,k−1) / (k + A·B(A,k−1))
    C(A, N) = N·B / (N − A·(1 − B))          probability of waiting (1 when N <= A)
    SL(t)   = 1 − C·e^{−(N−A)·t/AHT}          answered within t / offered
    ASA     = C·AHT / (N − A)                 average speed of answer
    occupancy = A / N

Erlang A (M/M/N+M, Palm; Garnett, Mandelbaum and Reiman 2002):
    π_k ∝ Π_{i=1..k} λ / (min(i, N)·μ + max(i − N, 0)·θ)      (states k = 0, 1, ...)
    P(wait) = Σ_{k>=N} π_k        P(abandon) = θ·Σ_{k>=N} (k − N)·π_k / λ
    SL(t) = Σ_{k<N} π_k + Σ_{k>=N} π_k · P_{k−N}(served by t)
where an arrival finding j = k − N callers ahead moves up at rate N·μ + j·θ, is served from
the head at rate N·μ, and abandons at rate θ (its served-by-t probability by uniformization);
occupancy = λ·(1 − P(abandon)) / (N·μ).

Agents needed: the fewest N with SL(t) >= the target and occupancy <= the cap, found on the
integers; `exact_agents` also interpolates the service level linearly between N − 1 and N so
that requirements can be summed over queues (or intervals) before rounding up once
(summing rounded requirements overstaffs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pbxlens.reports.erlang import blocking

MAX_AGENTS = 5000


def erlang_c(traffic: float, agents: int) -> float:
    """C(A, N): the probability that a caller waits.

    Example (A = 10 Erlangs):
        >>> [round(erlang_c(10, n), 4) for n in (10, 11, 12, 13)]
        [1.0, 0.6821, 0.4494, 0.2853]
    """
    if agents <= traffic:
        return 1.0
    b = blocking(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def service_level_c(traffic: float, agents: int, aht_s: float, t_s: float) -> float:
    """SL(t) = 1 − C·e^{−(N−A)·t/AHT}: the share of callers answered within t s.

    Example (A = 10, AHT 180 s, t = 20 s):
        >>> round(service_level_c(10, 12, 180, 20), 4)
        0.6402
    """
    if agents <= traffic:
        return 0.0
    return 1 - erlang_c(traffic, agents) * math.exp(-(agents - traffic) * t_s / aht_s)


def asa_c(traffic: float, agents: int, aht_s: float) -> float:
    """ASA = C·AHT / (N − A), seconds (infinite when N <= A).

    Example:
        >>> round(asa_c(10, 12, 180), 1)
        40.4
    """
    if agents <= traffic:
        return math.inf
    return erlang_c(traffic, agents) * aht_s / (agents - traffic)


@dataclass(frozen=True)
class ErlangA:
    p_wait: float
    p_abandon: float
    service_level: float
    occupancy: float


def _stationary(rate: float, mu: float, theta: float, agents: int) -> np.ndarray:
    """π_k of the M/M/N+M chain, truncated where the terms stop mattering."""
    terms = [1.0]
    k = 0
    while True:
        k += 1
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        terms.append(terms[-1] * rate / death)
        if k > agents and (terms[-1] < 1e-14 * max(terms) or k > agents + 100_000):
            break
        if k > 10 * agents + 1000 and theta == 0:  # no abandonment: geometric tail
            break
    pi = np.array(terms)
    return pi / pi.sum()


def _served_by(t_s: float, agents: int, mu: float, theta: float, ahead: int) -> np.ndarray:
    """P(served within t | j callers ahead) for j = 0..ahead, by uniformization."""
    j = np.arange(ahead + 1)
    up = agents * mu + j * theta             # rate of moving one place up (or being served)
    lam = float(up[-1] + theta)              # uniformization rate >= every state's total rate
    p_up, p_stay = up / lam, 1 - (up + theta) / lam
    m_max = int(lam * t_s + 8 * math.sqrt(lam * t_s) + 20)
    u = np.zeros(ahead + 1)                  # P(served within m jumps)
    log_w = -lam * t_s                       # log Poisson(m; λt), m = 0
    out = np.zeros(ahead + 1)
    for m in range(1, m_max + 1):
        nxt = np.empty_like(u)
        nxt[0] = p_up[0] + p_stay[0] * u[0]
        nxt[1:] = p_up[1:] * u[:-1] + p_stay[1:] * u[1:]
        u = nxt
        log_w += math.log(lam * t_s) - math.log(m)
        out += math.exp(log_w) * u
    # Σ_m Poisson(m)·u_m with u_0 = 0; the tail beyond m_max carries u_m <= 1 and is ~0
    return np.minimum(out + (1 - _poisson_cdf(lam * t_s, m_max)) * u, 1.0)


def _poisson_cdf(mean: float, m: int) -> float:
    log_p, total = -mean, 0.0
    for i in range(m + 1):
        if i:
            log_p += math.log(mean) - math.log(i)
        total += math.exp(log_p)
    return min(total, 1.0)


def erlang_a(rate_per_s: float, aht_s: float, patience_s: float, agents: int,
             t_s: float) -> ErlangA:
    """The M/M/N+M measures of N agents; `patience_s` = mean patience (math.inf: Erlang C).

    Example (Erlang A with patience equal to the AHT has the load of M/M/∞: P(wait) is the
    Poisson tail P(X >= N), X ~ Poisson(A)):
        >>> r = erlang_a(10 / 180, 180, 180, 12, 20)
        >>> round(r.p_wait, 4)
        0.3032
    """
    if agents < 1:
        raise ValueError("at least one agent")
    mu = 1 / aht_s
    theta = 0.0 if math.isinf(patience_s) else 1 / patience_s
    if theta == 0:
        a = rate_per_s * aht_s
        if agents <= a:
            return ErlangA(1.0, 0.0, 0.0, 1.0)
        return ErlangA(erlang_c(a, agents), 0.0, service_level_c(a, agents, aht_s, t_s),
                       a / agents)
    pi = _stationary(rate_per_s, mu, theta, agents)
    queued = pi[agents:]
    p_wait = float(queued.sum())
    p_ab = float(theta * (np.arange(len(queued)) * queued).sum() / rate_per_s)
    sl = float(pi[:agents].sum())
    if len(queued):
        sl += float((queued * _served_by(t_s, agents, mu, theta, len(queued) - 1)).sum())
    occ = rate_per_s * (1 - p_ab) * aht_s / agents
    return ErlangA(p_wait, p_ab, sl, min(occ, 1.0))


def service_level(rate_per_s: float, aht_s: float, agents: int, t_s: float,
                  patience_s: float = math.inf) -> float:
    """SL(t) of N agents by Erlang C, or Erlang A when the patience is finite."""
    if math.isinf(patience_s):
        return service_level_c(rate_per_s * aht_s, agents, aht_s, t_s)
    return erlang_a(rate_per_s, aht_s, patience_s, agents, t_s).service_level


def occupancy(rate_per_s: float, aht_s: float, agents: int,
              patience_s: float = math.inf) -> float:
    if math.isinf(patience_s):
        return min(rate_per_s * aht_s / agents, 1.0)
    return erlang_a(rate_per_s, aht_s, patience_s, agents, 1).occupancy


def exact_agents(rate_per_s: float, aht_s: float, target_sl: float, t_s: float,
                 occupancy_cap: float = 1.0, patience_s: float = math.inf) -> float:
    """The agents needed, unrounded: the service-level requirement interpolated between the
    integers around it (SL(0) = 0), and at least the carried load / the occupancy cap (Erlang
    C: A / cap; Erlang A: the load the agents carry once abandons are gone). 0 without calls.

    Example (A = 10 Erlangs, AHT 180 s, 80 % within 20 s, occupancy <= 85 %):
        >>> x = exact_agents(10 / 180, 180, 0.80, 20, 0.85)
        >>> round(x, 3), math.ceil(x)
        (13.047, 14)
    """
    if rate_per_s <= 0:
        return 0.0
    if not 0 < target_sl < 1:
        raise ValueError("the service-level target is a share in (0, 1)")
    if not 0 < occupancy_cap <= 1:
        raise ValueError("the occupancy cap is a share in (0, 1]")
    a = rate_per_s * aht_s
    n = max(1, math.floor(a) + (0 if math.isinf(patience_s) else -int(a // 4)))
    prev = service_level(rate_per_s, aht_s, n - 1, t_s, patience_s) if n > 1 else 0.0
    while n <= MAX_AGENTS:
        sl = service_level(rate_per_s, aht_s, n, t_s, patience_s)
        if sl >= target_sl:
            break
        prev, n = sl, n + 1
    else:
        raise ValueError("more than MAX_AGENTS agents needed")
    frac = (n - 1 + (target_sl - prev) / (sl - prev)) if sl > prev else float(n)
    if math.isinf(patience_s):
        by_occupancy = a / occupancy_cap
    else:  # the load carried by the agents found (abandons lighten it), over the cap
        m = max(1, math.ceil(frac))
        carried = occupancy(rate_per_s, aht_s, m, patience_s) * m
        while carried / m > occupancy_cap and m <= MAX_AGENTS:
            m += 1
            carried = occupancy(rate_per_s, aht_s, m, patience_s) * m
        by_occupancy = carried / occupancy_cap
    return max(frac, by_occupancy)


def agents_needed(rate_per_s: float, aht_s: float, target_sl: float, t_s: float,
                  occupancy_cap: float = 1.0, patience_s: float = math.inf,
                  shrinkage: float = 0.0) -> int:
    """The whole agents to schedule: ⌈exact / (1 − shrinkage)⌉.

    Example (as above, with 30 % shrinkage):
        >>> agents_needed(10 / 180, 180, 0.80, 20, 0.85, shrinkage=0.3)
        19
    """
    return round_up(exact_agents(rate_per_s, aht_s, target_sl, t_s, occupancy_cap, patience_s)
                    / (1 - shrinkage))


def round_up(x: float) -> int:
    """⌈x⌉, forgiving the float noise of a sum (12.0000000001 agents are 12).

    Example:
        >>> round_up(12.0000000001), round_up(12.01)
        (12, 13)
    """
    return math.ceil(x - 1e-9)
