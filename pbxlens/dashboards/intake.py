"""The intake: `pbxlens serve --intake-port P --intake-workers N` starts one child process, a
granian server whose N worker processes serve, on port P, what needs only the operations store:
- the three webhook endpoints: each worker commits to the inbox with its own group commit,
  and the server's inbox mover (which polls the inbox at least twice a second) brings the rows
  into DuckDB;
- the operators' callback API (`/api/missed...`, Bearer tokens only): the same handlers as on
  the main port; the server's `missed_calls.sync.watch` notices their actions and refreshes
  the analytics copies.
They need no DuckDB, so they have interpreters of their own and never queue behind the web app
or the analytics writer for Python's GIL. granian, not waitress: its HTTP layer is native
code, and a request costs the workers' Python only the app (docs/decisions.md, stop 42).

The main port keeps serving the webhooks too; the intake ends when the server does (its
process stops its workers; a worker whose parent is gone exits).

Run by `serve()`: `python -m pbxlens.dashboards.intake --host H --port P --workers N
--threads T`, with the operations URL in PBXLENS_OPS_URL (not on the command line: it may hold
a password).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from pbxlens import PbxlensError

WATCH_PARENT_S = 1.0


THREADS = 96


def start(ops_url: str, host: str, port: int, workers: int, threads: int = THREADS,
          ) -> list[subprocess.Popen]:
    """Start the intake: one process whose `workers` children serve the port (granian);
    returns it (the caller terminates it). Many threads: they mostly wait for a group commit,
    and the more wait, the larger each commit (on PostgreSQL with synchronous commit,
    throughput = threads x processes / commit time: with 32 threads two processes took
    481-670 webhooks/s of 1,000 during an ingest, with 96 839-995)."""
    check_port(host, port)
    env = {**os.environ, "PBXLENS_OPS_URL": ops_url}
    return [subprocess.Popen([sys.executable, "-m", "pbxlens.dashboards.intake", "--host", host,
                              "--port", str(port), "--workers", str(workers),
                              "--threads", str(threads), "--parent", str(os.getpid())], env=env)]


def check_port(host: str, port: int) -> None:
    """Refuse a port that cannot be bound, before the intake starts: its own failure would be
    a native backtrace in the log while the server went on without it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PbxlensError(f"the intake port {host}:{port} cannot be used: "
                               f"{exc.strerror}") from exc


def stop(procs: list[subprocess.Popen], timeout: float = 10.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()


def _watch_parent(parent: int, gone: Callable[[], object]) -> None:
    while True:
        time.sleep(WATCH_PARENT_S)
        if os.getppid() != parent:
            gone()


def _stop_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # granian stops its workers
    time.sleep(10)
    os._exit(0)


def wsgi_app() -> Callable:
    """The app of one worker process (granian calls it there): its own operations engine and
    inbox; it ends when the process that started it does."""
    from pbxlens.dashboards import missed_api
    from pbxlens.dashboards.webhooks import make_app
    from pbxlens.ingest.inbox import Inbox
    from pbxlens.store import OpsOnly

    threading.Thread(target=_watch_parent, args=(os.getppid(), lambda: os._exit(0)),
                     daemon=True).start()
    stores = OpsOnly(os.environ["PBXLENS_OPS_URL"])  # the server migrated it
    return dispatch(make_app(Inbox(stores.ops)), missed_api.side_app(stores).wsgi_app)


def main(argv: list[str] | None = None) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    ap = argparse.ArgumentParser(description="pbxlens intake (webhooks, operators' API)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--parent", type=int, default=os.getppid())
    args = ap.parse_args(argv)
    threading.Thread(target=_watch_parent, args=(args.parent, _stop_self), daemon=True).start()
    Server("pbxlens.dashboards.intake:wsgi_app", factory=True, address=args.host, port=args.port,
           interface=Interfaces.WSGI, http=HTTPModes.http1, websockets=False,
           workers=args.workers, blocking_threads=args.threads, backlog=1024,
           respawn_failed_workers=True,
           log_level=LogLevels.error).serve()  # not its warning on many threads: they wait


def dispatch(webhooks, callbacks):
    """One WSGI function: the callback API under /api/missed, the webhooks otherwise (they
    answer 404 for any other path)."""

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/api/missed" or path.startswith("/api/missed/"):
            return callbacks(environ, start_response)
        return webhooks(environ, start_response)

    return app


if __name__ == "__main__":
    main()
