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
    start_pull(store, stop)
    from pbxlens.tickets.mailer import start_sender

    start_sender(store, stop)  # ticket notifications, when smtp_enabled (issue 10)
    return stop


def pull_once(store: Store, settings) -> None:
    """One PBX pull under the write lock (issue 7); errors are logged, retried next interval."""
    from pbxlens.ingest import pbx_api

    with pbx_api.PbxClient(settings.url, settings.user, settings.password, settings.domain,
                           verify=settings.verify) as client, store.cursor() as cur:
        pbx_api.pull(cur, client, lock=store.write_lock)


def start_pull(store: Store, stop: threading.Event) -> bool:
    """Pull the PBX CDR every `pull_interval_s` when `pbx_url`/user/password are configured."""
    import logging

    from pbxlens.ingest.pbx_api import pull_settings

    settings = pull_settings()
    if settings is None:
        return False
    log = logging.getLogger("pbxlens.pull")

    def loop() -> None:
        while True:
            try:
                pull_once(store, settings)
            except Exception as exc:  # a failed pull is retried next interval
                log.warning("PBX pull failed: %s", exc)
            if stop.wait(settings.interval_s):
                return

    threading.Thread(target=loop, name="pbxlens-pull", daemon=True).start()
    return True
