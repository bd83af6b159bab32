"""The one shared snapshot of the server: a thread reads the live tables once per tick
(`live_tick_s`) and keeps the result; the wallboard pages, `GET /api/live` and the kiosks read
that object (scoped per viewer), so a hundred screens cost one computation per tick, not a
hundred. Directory names (queues, operators) come from the analytics store, re-read once a
minute by a reading cursor: never on the intake's path. Listeners (the alert rules) run after
each tick on the new snapshot; once a minute the upkeep ends calls that never ended.

Each tenant's snapshot has a `version` (a digest of its content without the tick's instant):
`wait_change` lets a long-poll (`GET /api/live/stream?since=<version>`) sleep until it moves,
a bounded number at a time (`stream_slot`, setting `live_stream_max`): a waiting request holds
one of the web server's threads. `stop()` wakes every waiter.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pbxlens.config import get_settings
from pbxlens.live import snapshot
from pbxlens.store import ops

log = logging.getLogger("pbxlens.live")
NAMES_EVERY_S = 60.0
UPKEEP_EVERY_S = 60.0
Listener = Callable[[dict[str, dict], datetime], None]


def directory_names(stores) -> snapshot.Names:
    """Queue and operator names of every tenant (the analytics store's directory)."""
    try:
        with stores.cursor() as cur:
            qs = cur.execute("SELECT tenant, id, name FROM queues WHERE name IS NOT NULL"
                             ).fetchall()
            ops_ = cur.execute("SELECT tenant, extension, name FROM operators"
                               " WHERE name IS NOT NULL").fetchall()
    except Exception:  # no directory yet: ids stand for names
        log.exception("live: directory names not read")
        return snapshot.NO_NAMES
    return snapshot.Names({(t, q): n for t, q, n in qs}, {(t, e): n for t, e, n in ops_})


def upkeep(stores, now: datetime) -> int:
    """End what never ended (queue visits, agent calls with no news for `live_call_max_hours`,
    assumed `expired`) and drop old days: pbxlens.live.state.expire."""
    from datetime import timedelta

    from pbxlens.live import state

    max_age = timedelta(hours=get_settings().live_call_max_hours)
    with ops.reading(stores.ops) as c:  # the scans without the write lock
        due = state.expiry_due(c, now, max_age)
    if not (due.stale or due.old_days):
        return 0
    with stores.ops_write() as c:
        return state.expire(c, now, max_age, due=due)


EMPTY_VERSION = "0"


def version_of(snap: dict | None) -> str:
    """A tenant snapshot's content digest, its instant left out (times in state still count:
    a wallboard shows them)."""
    if not snap:
        return EMPTY_VERSION
    body = json.dumps({k: v for k, v in snap.items() if k != "at"}, sort_keys=True,
                      default=str, separators=(",", ":"))
    return hashlib.blake2b(body.encode(), digest_size=8).hexdigest()


class Hub:
    """The shared snapshot: `current()` -> (tenant -> snapshot, computed at)."""

    def __init__(self, stores, tick_s: float | None = None) -> None:
        self.stores = stores
        self.tick_s = float(tick_s if tick_s is not None else get_settings().live_tick_s)
        self.listeners: list[Listener] = []
        self._snap: dict[str, dict] = {}
        self._at: datetime | None = None
        self._names = snapshot.NO_NAMES
        self._names_at = float("-inf")
        self._upkeep_at = time.monotonic()  # not at start-up: the first pass a minute in
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._upkeeping: threading.Thread | None = None
        self.ticks = 0
        self.versions: dict[str, str] = {}
        self._changed = threading.Condition()
        self._streams = 0
        self._streams_lock = threading.Lock()

    def current(self) -> tuple[dict[str, dict], datetime | None]:
        return self._snap, self._at

    def tick(self, now: datetime | None = None) -> dict[str, dict]:
        """Compute the snapshot now (the thread's step; tests call it directly)."""
        now = now or datetime.now(UTC)
        if time.monotonic() - self._names_at > NAMES_EVERY_S:
            self._names, self._names_at = directory_names(self.stores), time.monotonic()
        with self.stores.ops_read() as c:
            snap = snapshot.compute(c, now, self._names)
        versions = {tenant: version_of(s) for tenant, s in snap.items()}
        with self._changed:
            self._snap, self._at = snap, now  # one reference swap: readers never see a half
            self.versions = versions
            self.ticks += 1
            self._changed.notify_all()
        if time.monotonic() - self._upkeep_at > UPKEEP_EVERY_S:
            self._upkeep_at = time.monotonic()
            self._upkeep(now)
        for fn in list(self.listeners):
            try:
                fn(snap, now)
            except Exception:
                log.exception("live: listener %r failed", fn)
        return snap

    def start(self) -> Hub:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="pbxlens-live", daemon=True)
            self._thread.start()
            atexit.register(self.stop)  # never killed inside a database call at exit
        return self

    def _upkeep(self, now: datetime) -> None:
        """The upkeep on a thread of its own: its write waits behind the intake's commits,
        and the next ticks must not."""
        def run() -> None:
            try:
                upkeep(self.stores, now)
            except Exception:
                log.exception("live: upkeep failed")

        if self._thread is None:  # driven by hand (tests): in line
            upkeep(self.stores, now)
        elif self._upkeeping is None or not self._upkeeping.is_alive():
            self._upkeeping = threading.Thread(target=run, name="pbxlens-live-upkeep",
                                               daemon=True)
            self._upkeeping.start()

    def version(self, tenant: str) -> str:
        return self.versions.get(tenant, EMPTY_VERSION)

    def wait_change(self, tenant: str, since: str | None, timeout: float) -> bool:
        """Wait up to `timeout` s for `tenant`'s snapshot version to differ from `since`;
        True when it does (at once if it already does), False on timeout or shutdown."""
        with self._changed:
            self._changed.wait_for(lambda: self._stop.is_set() or self.version(tenant) != since,
                                   timeout)
            return not self._stop.is_set() and self.version(tenant) != since

    @contextlib.contextmanager
    def stream_slot(self, limit: int):
        """One of `limit` waiting places (yields False when all are taken or stopping)."""
        with self._streams_lock:
            ok = self._streams < limit and not self._stop.is_set()
            self._streams += ok
        try:
            yield ok
        finally:
            if ok:
                with self._streams_lock:
                    self._streams -= 1

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        for t in (self._thread, self._upkeeping):
            if t is not None and t is not threading.current_thread():
                t.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                self.tick()
            except Exception:  # the operations store away: the last snapshot stays
                log.exception("live: snapshot failed")
            self._stop.wait(max(0.05, self.tick_s - (time.monotonic() - t0)))
