"""The live feed: the simulator's events of a day posted as simulated time passes (a virtual
clock here), restamped with the posting instant; the window of a start time and a length."""

from __future__ import annotations

from pbxlens.live import feed

T = 1_778_490_000


def _ev(n: int, s: float) -> dict:
    return {"event_id": n, "event_name": "pbx.queue.enter", "event_timestamp": f"{T + s:.3f}",
            "params": {"unique_id": f"{T}.{n}", "queue": "700"}}


class Clock:
    def __init__(self) -> None:
        self.t = 5_000.0

    def now(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_events_follow_simulated_time_at_the_speed_asked():
    evs = [_ev(1, 0), _ev(2, 0), _ev(3, 30), _ev(4, 90)]
    clock, batches = Clock(), []
    res = feed.feed(evs, T * 1000, lambda b: batches.append((clock.t, b)), speed=60,
                    clock=clock.now, sleep=clock.sleep)
    assert (res.posted, res.requests) == (4, 3)
    assert [[e["event_id"] for e in b] for _t, b in batches] == [[1, 2], [3], [4]]
    # 30 simulated seconds at 60x = 0.5 s later; 90 s = 1.5 s (within one tick)
    offsets = [round(t - 5_000.0, 1) for t, _b in batches]
    assert offsets[0] == 0.0 and 0.5 <= offsets[1] <= 0.7 and 1.5 <= offsets[2] <= 1.7
    assert [b[0]["event_timestamp"] for _t, b in batches] == [f"{t:.3f}" for t, _b in batches]


def test_the_window_of_a_start_and_a_length():
    evs = [_ev(i, i * 60) for i in range(10)]
    assert [e["event_id"] for e in feed.window(evs, (T + 120) * 1000, 3)] == [2, 3, 4]
    assert len(feed.window(evs, T * 1000, None)) == 10
