"""A live event source for demos and tests: the simulator's events of today (the PBX's call,
queue and queue-member events, simulate/live_events.py) posted to a running server's
`POST /api/events` as the simulated day goes by, in real time or `speed` times faster, from a
simulated time of day on. Each event is stamped with the instant it is posted (a faster feed
compresses waits and talks on the wallboard by `speed`); unique ids keep the simulated call
start, so the day's CDR of the same seed reconciles with the events.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from pbxlens.config import get_settings
from pbxlens.simulate.live_events import live_run

TICK_S = 0.2  # how often due events are posted (one request per tick)


@dataclass
class FeedSummary:
    posted: int = 0
    requests: int = 0


def _ms(ev: dict) -> int:
    return round(float(ev["event_timestamp"]) * 1000)


def window(events: list[dict], start_ms: int, minutes: float | None) -> list[dict]:
    """The events from `start_ms` on (for `minutes` simulated minutes, else to the end)."""
    end = start_ms + minutes * 60_000 if minutes is not None else float("inf")
    return [e for e in events if start_ms <= _ms(e) < end]


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in (429, 503)
    return isinstance(exc, httpx.TransportError)


def feed(events: list[dict], start_ms: int, post: Callable[[list[dict]], None], *,
         speed: float = 1.0, clock: Callable[[], float] = time.time,
         sleep: Callable[[float], None] = time.sleep) -> FeedSummary:
    """Post `events` (simulated instants from `start_ms` on, in time order) as simulated time
    passes `speed` times faster than `clock`, each batch restamped with the posting instant."""
    if speed <= 0:
        raise ValueError("the speed is a positive factor")
    wall0, out, i = clock(), FeedSummary(), 0
    while i < len(events):
        now = clock()
        sim_now = start_ms + (now - wall0) * 1000 * speed
        due = []
        while i < len(events) and _ms(events[i]) <= sim_now:
            due.append({**events[i], "event_timestamp": f"{now:.3f}"})
            i += 1
        if due:
            post(due)
            out.posted += len(due)
            out.requests += 1
        if i < len(events):
            wait = (_ms(events[i]) - sim_now) / 1000 / speed
            sleep(min(max(wait, 0.0), TICK_S))
    return out


def http_poster(url: str, token: str | None, timeout_s: float = 10.0
                ) -> tuple[Callable[[list[dict]], None], httpx.Client]:
    """A `post` for `feed`: JSON arrays to `url` (…/api/events) with the events token,
    retried with backoff while the server answers 503/429 or cannot be reached."""
    client = httpx.Client(timeout=timeout_s, headers={"X-Pbxlens-Token": token or ""})

    @retry(retry=retry_if_exception(_retryable), stop=stop_after_attempt(6),
           wait=wait_exponential(multiplier=0.2, max=5), reraise=True)
    def post(batch: list[dict]) -> None:
        r = client.post(url, content=json.dumps(batch),
                        headers={"Content-Type": "application/json"})
        r.raise_for_status()

    return post, client


def today() -> date:
    """Today in the PBX time zone."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def day_events(day: date, *, seed: int = 1, calls_per_day: int | None = None,
               scenario: str | None = None) -> list[dict]:
    """The simulator's events of `day` (today for a live demo: the counters are today's)."""
    return live_run(days=1, calls_per_day=calls_per_day, seed=seed, start=day,
                    tz=get_settings().timezone, scenario=scenario)


def start_of(day: date, hhmm: str | None) -> int:
    """Epoch ms of `hhmm` on `day` in the PBX time zone (None: now)."""
    if not hhmm:
        return int(datetime.now(UTC).timestamp() * 1000)
    h, m = (int(x) for x in hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(get_settings().timezone))
    return int(local.timestamp() * 1000)
