"""Webhook intake under faults, over real HTTP: PostgreSQL stopped mid-run (503 with Retry-After,
nothing half-stored, recovery when it returns), and a `pbxlens serve` killed with SIGKILL while
1,000 events are posted (after the restart every acknowledged event is in DuckDB exactly once)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import duckdb
import httpx
import pytest
import waitress

from pbxlens.dashboards.webhooks import make_app
from pbxlens.ingest import inbox, inbox_move
from pbxlens.store import Stores, users
from tests.pgcluster import Cluster

TOKEN = "faults-events-token"


def ev(eid: int) -> dict:
    return {"event_id": eid, "event_name": "pbx.queue.enter", "event_timestamp": "1778480000.5",
            "event_pbx_serial": "S1", "params": {"unique_id": f"1778480000.{eid}"}}


def wait_for(pred, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stored_keys(stores: Stores) -> list[str]:
    with stores.cursor() as cur:
        return [r[0] for r in cur.execute("SELECT event_key FROM pbx_events").fetchall()]


def test_postgresql_outage_503_then_recovery(tmp_path, monkeypatch):
    monkeypatch.setenv("PBXLENS_WEBHOOK_TOKEN_EVENTS", TOKEN)
    cluster = Cluster()  # a throwaway cluster of its own: this test stops it
    try:
        stores = Stores(tmp_path / "s.duckdb", cluster.new_database(), threaded_writer=True)
        stores.writer.start()
        mover = inbox_move.Mover(stores).start()
        intake = inbox.Inbox(stores.ops, on_commit=mover.kick)
        server = waitress.create_server(make_app(intake), host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        acked: list[int] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{server.effective_port}", timeout=30,
                          headers={"X-Pbxlens-Token": TOKEN}) as http:
            def post(eid: int) -> httpx.Response:
                r = http.post("/api/events", json=ev(eid))
                if r.status_code == 200:
                    acked.append(eid)
                return r

            for i in range(1, 21):
                assert post(i).status_code == 200
            cluster.pause()
            refused = [post(i) for i in range(21, 31)]
            assert {r.status_code for r in refused} == {503}
            assert refused[0].headers["Retry-After"] == "5"
            assert "operations store" in refused[0].json()["reason"]
            cluster.resume()
            # the PBX retries: the refused events come again, and new ones
            wait_for(lambda: post(21).status_code == 200, what="recovery")
            for i in range(22, 41):
                assert post(i).status_code == 200
        wait_for(lambda: inbox.backlog(stores.ops)["pending"] == 0, what="the move")
        keys = stored_keys(stores)
        assert sorted(keys, key=int) == [str(i) for i in range(1, 41)] == [str(i) for i in acked]
        server.close()
        mover.stop()
        intake.close()
        stores.close()
    finally:
        cluster.stop()


# ------------------------------------------------------------------------------ kill -9
N_EVENTS, SENDERS = 1000, 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db, ops_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PBXLENS_WEBHOOK_TOKEN_EVENTS": TOKEN}
    log = db.with_name("serve.log")
    with log.open("ab") as err:  # a file, not a pipe nobody reads (a full pipe blocks it)
        proc = subprocess.Popen([sys.executable, "-m", "pbxlens", "serve", "--db", str(db),
                                 "--ops-url", ops_url, "--host", "127.0.0.1", "--port",
                                 str(port)], env=env, stdout=subprocess.DEVNULL, stderr=err)

    def up() -> bool:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, 90, "the server")
    return proc


@pytest.mark.slow
def test_kill_9_loses_nothing_acknowledged(tmp_path, ops_url):
    db = tmp_path / "store.duckdb"
    with Stores(db, ops_url) as s:
        token = users.issue_token(s, users.create_user(s, "adm", "adm-password-1", "admin").id)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(db, ops_url, port)
    acked: set[int] = set()
    acked_before_kill: set[int] = set()
    lock = threading.Lock()

    def sender(k: int) -> None:
        # like the PBX: every event is sent until it is acknowledged
        with httpx.Client(base_url=base, timeout=10, headers={"X-Pbxlens-Token": TOKEN}) as c:
            for eid in range(k + 1, N_EVENTS + 1, SENDERS):
                for _attempt in range(2000):
                    try:
                        if c.post("/api/events", json=ev(eid)).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.02)
                else:
                    return
                with lock:
                    acked.add(eid)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(acked) >= N_EVENTS // 3, 120, "a third acknowledged")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        with lock:
            acked_before_kill |= acked
        proc = start_server(db, ops_url, port)  # the senders go on against the new process
        for t in threads:
            t.join(300)
        assert len(acked) == N_EVENTS

        def settled():
            r = httpx.get(f"{base}/api/events/stats", timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
            return r.status_code == 200 and r.json()["inbox"]["pending"] == 0 and r.json()
        stats = wait_for(settled, 60, "the inbox to drain")
        assert stats["total"] == N_EVENTS
    finally:
        proc.terminate()
        proc.wait(30)
    con = duckdb.connect(str(db), read_only=True)
    keys = [r[0] for r in con.execute("SELECT event_key FROM pbx_events").fetchall()]
    con.close()
    assert len(keys) == len(set(keys)) == len(acked) == N_EVENTS  # each exactly once
    assert {str(i) for i in acked_before_kill} <= set(keys)
    assert len(acked_before_kill) >= N_EVENTS // 3
