"""`pbxlens serve --intake-port P --intake-workers 2`: webhook intake processes of their own on
P (no DuckDB in them) commit to the inbox; the server moves what they committed into DuckDB;
they serve the operators' callback API too, and the server copies their bookings; they end with
the server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from pbxlens.missed_calls import sync
from pbxlens.store import Stores, schema, users
from tests.missed_calls.helpers import Cdr

TOKEN = "intake-events-token"
DAY = "2026-05-11"


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


def _requests(s: Stores) -> dict[str, str]:
    """Three open callback requests on 2026-05-11 and two operators with API tokens."""
    with s.writing() as cur:
        cur.execute("INSERT INTO operators (tenant, extension, name) VALUES ('default', '515', 'M')")
        c = Cdr(cur, s.ops)
        for i in range(3):
            c.dynamic_routing(f"33300000{i:02d}", datetime(2026, 5, 11, 8, i, tzinfo=UTC))
        c.commit()
        sync.push_operators(cur, s.ops)
    return {name: users.issue_token(s, users.create_user(s, name, "op-password-1", "operator",
                                                         extension="515").id)
            for name in ("op1", "op2")}


def _unbooked(port: int, token: str) -> int:
    r = httpx.get(f"http://127.0.0.1:{port}/api/reports/missed.today", timeout=30,
                  params={"from": DAY, "to": DAY}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return sum(row.get("today.unbooked") or 0 for t in r.json()["tables"] for row in t["rows"])


def _book_on_the_intake(port: int, intake_port: int, admin: str, ops: dict[str, str]) -> str:
    """The operators' callback API on the intake port: Bearer tokens only, one winner, and the
    server copies the booking into DuckDB (its reports count it) without being told."""
    base = f"http://127.0.0.1:{intake_port}"
    assert httpx.get(base + "/api/missed").status_code == 401  # no session on this port
    before = _unbooked(port, admin)
    assert before == 3
    one, two = ({"Authorization": f"Bearer {ops[n]}"} for n in ("op1", "op2"))
    page = httpx.get(base + "/api/missed", params={"limit": 2}, headers=one).json()
    assert page["total"] == 3 and len(page["rows"]) == 2
    token = page["rows"][0]["token"]
    won = httpx.post(f"{base}/api/missed/{token}/book", headers=one)
    assert won.status_code == 200 and won.json()["booked_by"] == "op1"
    lost = httpx.post(f"{base}/api/missed/{token}/book", headers=two)
    assert lost.status_code == 409 and lost.json()["booked_by"] == "op1"
    mine = httpx.get(base + "/api/missed", params={"view": "booked"}, headers=one).json()
    assert [r["token"] for r in mine["rows"]] == [token]
    wait_for(lambda: _unbooked(port, admin) == 2, 15, "the booking in the reports")
    return token


def test_intake_processes_feed_the_server(tmp_path, ops_url):
    db = tmp_path / "store.duckdb"
    with Stores(db, ops_url) as s:
        token = users.issue_token(s, users.create_user(s, "adm", "adm-password-1", "admin").id)
        operators = _requests(s)
    port, intake_port = free_port(), free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pbxlens", "serve", "--db", str(db), "--ops-url", ops_url,
         "--port", str(port), "--intake-port", str(intake_port), "--intake-workers", "2",
         "--intake-threads", "12"],
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
        [intake] = children(proc.pid)
        workers = children(intake)
        assert len(workers) == 2
        with open(f"/proc/{intake}/cmdline", "rb") as fh:  # the workers and threads asked for
            argv = fh.read().split(b"\0")
        assert argv[argv.index(b"--workers") + 1] == b"2"
        assert argv[argv.index(b"--threads") + 1] == b"12"
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
        booked = _book_on_the_intake(port, intake_port, token, operators)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        # the intake and its workers end with the server
        wait_for(lambda: not any(alive(w) for w in [intake, *workers]), 15,
                 "the intake processes to end")
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    with Stores(db, ops_url) as s, s.cursor() as cur:
        copied = cur.execute("SELECT call_num, booked_by FROM missed_bookings").fetchall()
        with s.ops_read() as c:
            num = c.execute(sa.select(schema.callback_requests.c.call_num).where(
                schema.callback_requests.c.token == booked)).scalar_one()
        assert copied == [(num, "op1")]


_STAND_IN = """
import sys, time
from pbxlens.dashboards import intake
intake.start(sys.argv[1], "127.0.0.1", int(sys.argv[2]), 2, 4)
time.sleep(600)
"""


@pytest.fixture
def stand_in(tmp_path):
    """A stand-in for the server that only starts the intake: (its process, the port)."""
    url = f"sqlite:///{tmp_path}/ops.sqlite"
    Stores(tmp_path / "s.duckdb", url).close()  # the server migrates the operations store
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", _STAND_IN, url, str(port)],
                              env={**os.environ, "PBXLENS_WEBHOOK_TOKEN_EVENTS": TOKEN})
    wait_for(lambda: _serving(port), 60, "the intake")
    yield server, port
    if server.poll() is None:
        server.kill()
        server.wait(10)


def _serving(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/missed", timeout=1).status_code == 401
    except httpx.HTTPError:
        return False


def _raw_post(port: int, head: bytes, body: bytes) -> bytes:
    """Send a request as bytes, the body until the server stops reading; its status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /api/events HTTP/1.1\r\nHost: pbx\r\nX-Pbxlens-Token: "
                  + TOKEN.encode() + b"\r\nContent-Type: application/json\r\n" + head
                  + b"\r\n")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(body)  # refused before the end: the answer is waiting
        return s.recv(4096).split(b"\r\n", 1)[0]


def test_the_intake_refuses_bad_bodies_before_reading_them(stand_in):
    """Over the intake's own HTTP server: a declared length over the limit is refused before a
    byte of the body is sent; a chunked body is cut at the limit; too deep JSON is a 400."""
    _, port = stand_in
    mib = 1 << 20
    assert _raw_post(port, b"Content-Length: 1000000000\r\n", b"") \
        == b"HTTP/1.1 413 Payload Too Large"
    chunk = b"100000\r\n" + b"[" * mib + b"\r\n"  # 64 chunks of 1 MiB, never all read
    assert _raw_post(port, b"Transfer-Encoding: chunked\r\n", chunk * 64) \
        == b"HTTP/1.1 413 Payload Too Large"
    deep = b"[" * 100_000 + b"]" * 100_000
    assert _raw_post(port, b"Content-Length: %d\r\n" % len(deep), deep) \
        == b"HTTP/1.1 400 Bad Request"
    r = httpx.post(f"http://127.0.0.1:{port}/api/events", headers={"X-Pbxlens-Token": TOKEN},
                   json={"event_id": 1, "event_name": "pbx.queue.enter",
                         "event_timestamp": "1778480000"})
    assert r.status_code == 200 and r.json() == {"accepted": 1}


def test_the_intake_ends_when_the_server_is_killed(stand_in):
    """kill -9 of the server: its intake process stops its workers within seconds, and no
    worker is left serving the port."""
    server, port = stand_in
    [intake] = children(server.pid)
    processes = [intake, *children(intake)]
    assert len(processes) == 3
    server.kill()
    server.wait(10)
    wait_for(lambda: not any(alive(p) for p in processes), 20, "the intake to end")
    assert not _serving(port)


def test_a_busy_intake_port_is_refused_with_a_clear_error(tmp_path):
    """`pbxlens serve --intake-port P` with P taken: exit 2 and one line that names the port
    (not a native backtrace while the server goes on without its intake)."""
    db, url = tmp_path / "s.duckdb", f"sqlite:///{tmp_path}/ops.sqlite"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "pbxlens", "serve", "--db", str(db), "--ops-url", url,
             "--port", str(free_port()), "--intake-port", str(busy)],
            capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    assert f"the intake port 127.0.0.1:{busy} cannot be used: Address already in use" \
        in r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "panicked" not in r.stderr
    assert "serving on" not in r.stdout
