"""Background jobs of the server process (daemon threads): housekeeping of the operations store
(expired sessions, old login failures), the scheduled PBX pull (a job of the analytics writer),
the ticket notification sender, the delivery sender, the schedules of saved views and the
background exports."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

from pbxlens.background import spawn
from pbxlens.store import Stores
from pbxlens.store import schema as T

INTERVAL_S = 600


def housekeeping(store: Stores) -> None:
    now = datetime.now(UTC)
    with store.ops_write() as c:
        c.execute(T.sessions.delete().where(T.sessions.c.expires_at < now))
        c.execute(T.login_failures.delete().where(
            T.login_failures.c.failed_at < now - timedelta(days=1)))


def start(store: Stores, interval_s: float = INTERVAL_S) -> threading.Event:
    """Start the job loop; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            with contextlib.suppress(Exception):  # a failed pass is retried next interval
                housekeeping(store)

    spawn("pbxlens-jobs", loop, stop)
    start_pull(store, stop)
    from pbxlens.tickets.mailer import start_sender

    start_sender(store, stop)  # ticket notifications, when smtp_enabled
    from pbxlens import delivery
    from pbxlens.views import exports, schedules

    delivery.start_sender(store, stop)  # the delivery outbox: schedules, export links, alerts
    schedules.start_scheduler(store, stop)
    exports.start_worker(store, stop)
    from pbxlens.live import consistency

    consistency.start_daily(store, stop)  # yesterday's live counters against its CDR
    return stop


def pull_once(store: Stores, settings) -> None:
    """One PBX pull, a job of the analytics writer; errors are logged, retried next interval."""
    from pbxlens.ingest import pbx_api

    def write(fn):
        return store.writer.run("pull", f"PBX {settings.url}", lambda ctx: fn(ctx.con))

    with pbx_api.PbxClient(settings.url, settings.user, settings.password, settings.domain,
                           verify=settings.verify) as client, store.cursor() as cur:
        pbx_api.pull(cur, client, write=write, ops=store.ops)


def start_pull(store: Stores, stop: threading.Event) -> bool:
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

    spawn("pbxlens-pull", loop, stop)
    return True
