"""Intake processes: `pbxlens serve --intake-port P --intake-workers N` starts N child
processes that serve, on port P (all bound to it with SO_REUSEPORT; the kernel spreads the
connections), what needs only the operations store:
- the three webhook endpoints: each process commits to the inbox with its own group commit,
  and the server's inbox mover (which polls the inbox at least twice a second) brings the rows
  into DuckDB;
- the operators' callback API (`/api/missed...`, Bearer tokens only): the same handlers as on
  the main port; the server's `missed_calls.sync.watch` notices their actions and refreshes
  the analytics copies.
They need no DuckDB, so they have interpreters of their own and never queue behind the web app
or the analytics writer for Python's GIL.

The main port keeps serving the webhooks too; a child ends when its parent does.

Run by `serve()`: `python -m pbxlens.dashboards.intake --host H --port P --threads T`, with the
operations URL in PBXLENS_OPS_URL (not on the command line: it may hold a password).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

WATCH_PARENT_S = 1.0


THREADS = 96


def start(ops_url: str, host: str, port: int, workers: int, threads: int = THREADS,
          ) -> list[subprocess.Popen]:
    """Start the intake processes; returns them (the caller terminates them). Many threads:
    they mostly wait for a group commit, and the more wait, the larger each commit (on
    PostgreSQL with synchronous commit, throughput = threads x processes / commit time: with
    32 threads two processes took 481-670 webhooks/s of 1,000 during an ingest, with 96
    839-995)."""
    env = {**os.environ, "PBXLENS_OPS_URL": ops_url}
    return [subprocess.Popen([sys.executable, "-m", "pbxlens.dashboards.intake", "--host", host,
                              "--port", str(port), "--threads", str(threads),
                              "--parent", str(os.getpid())], env=env)
            for _ in range(workers)]


def stop(procs: list[subprocess.Popen], timeout: float = 10.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCH_PARENT_S)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: list[str] | None = None) -> None:
    import waitress

    from pbxlens.dashboards import missed_api
    from pbxlens.dashboards.webhooks import make_app
    from pbxlens.ingest.inbox import Inbox
    from pbxlens.store import OpsOnly

    ap = argparse.ArgumentParser(description="pbxlens webhook intake process")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--parent", type=int, default=os.getppid())
    args = ap.parse_args(argv)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # busy is normal here
    threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stores = OpsOnly(os.environ["PBXLENS_OPS_URL"])  # the server migrated it
    inbox = Inbox(stores.ops)
    app = dispatch(make_app(inbox), missed_api.side_app(stores).wsgi_app)
    server = waitress.create_server(app, sockets=[listening_socket(args.host, args.port)],
                                    threads=args.threads, ident="pbxlens-intake",
                                    connection_limit=1000)
    try:
        server.run()
    finally:
        inbox.close()
        stores.close()


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
