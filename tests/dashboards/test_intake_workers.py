"""`pbxlens serve --intake-port P --intake-workers 2`: webhook intake processes of their own on
P (no DuckDB in them) commit to the inbox; the server moves what they committed into DuckDB;
they end with the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from pbxlens.store import Stores, users

TOKEN = "intake-events-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return [int(x) for x in out.split()]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_intake_processes_feed_the_server(tmp_path, ops_url):
    db = tmp_path / "store.duckdb"
    with Stores(db, ops_url) as s:
        token = users.issue_token(s, users.create_user(s, "adm", "adm-password-1", "admin").id)
    port, intake_port = free_port(), free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pbxlens", "serve", "--db", str(db), "--ops-url", ops_url,
         "--port", str(port), "--intake-port", str(intake_port), "--intake-workers", "2"],
        env={**os.environ, "PBXLENS_WEBHOOK_TOKEN_EVENTS": TOKEN},
        stdout=subprocess.DEVNULL, stderr=log)

    def up(p: int) -> bool:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{p}/health", timeout=1).status_code in (200, 404)
        except httpx.HTTPError:
            return False

    try:
        wait_for(lambda: up(port) and up(intake_port), 90, "the server and its intake")
        workers = children(proc.pid)
        assert len(workers) == 2
        with httpx.Client(base_url=f"http://127.0.0.1:{intake_port}", timeout=30,
                          headers={"X-Pbxlens-Token": TOKEN}) as c:
            for i in range(1, 51):  # new connections: the kernel spreads them
                r = c.post("/api/events", json={"event_id": i, "event_name": "pbx.queue.enter",
                                                "event_timestamp": "1778480000"},
                           headers={"Connection": "close"})
                assert r.status_code == 200 and r.json() == {"accepted": 1}
            assert c.post("/api/events", json={"event_id": 1}).status_code == 400
            assert c.post("/api/events", json={}, headers={"X-Pbxlens-Token": "x"}).status_code \
                == 401
            assert c.get("/api/reports").status_code == 404  # webhooks only on this port

        def moved():
            r = httpx.get(f"http://127.0.0.1:{port}/api/events/stats", timeout=30,
                          headers={"Authorization": f"Bearer {token}"}).json()
            return r["inbox"]["pending"] == 0 and r["total"] == 50 and r
        wait_for(moved, 30, "the move of what the intake processes committed")
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        # the workers end with their parent
        wait_for(lambda: not any(alive(w) for w in workers), 15, "the intake processes to end")
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
