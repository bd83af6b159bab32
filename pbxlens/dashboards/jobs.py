"""Background jobs of the server process (daemon threads; the process is the store's writer).
Today: housekeeping of expired sessions and old login failures. Scheduled PBX pulls and
rating (later issues) register here."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

from pbxlens.dashboards import tables as T
from pbxlens.dashboards.store import Store

INTERVAL_S = 600


def housekeeping(store: Store) -> None:
    now = datetime.now(UTC)
    with store.sa_write() as c:
        c.execute(T.sessions.delete().where(T.sessions.c.expires_at < now))
        c.execute(T.login_failures.delete().where(
            T.login_failures.c.failed_at < now - timedelta(days=1)))


def start(store: Store, interval_s: float = INTERVAL_S) -> threading.Event:
    """Start the job loop; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            with contextlib.suppress(Exception):  # a failed pass is retried next interval
                housekeeping(store)

    threading.Thread(target=loop, name="pbxlens-jobs", daemon=True).start()
    return stop
