"""The callback queue's JSON API on a real `pbxlens serve` process (its own DuckDB file and
operations store, SQLite and PostgreSQL): 50 logged-in sessions booking one request at once
get exactly one winner and 49 answers naming it; roles, CSRF, Bearer tokens, paging, masking,
flush."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from pbxlens.store import schema, users
from tests.dashboards.live import PASSWORD, login
from tests.missed_calls.helpers import Cdr

OPERATORS = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """A store with 1,205 open requests and 50 operators, served by `pbxlens serve`."""
    from pbxlens.config import get_settings
    from pbxlens.missed_calls import sync
    from pbxlens.store import Stores

    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    url = (f"sqlite:///{folder / 'ops.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_cluster").new_database())
    os.environ["PBXLENS_LINE_PREFIX"] = "0"
    get_settings.cache_clear()
    stores = Stores(folder / "store.duckdb", url)
    with stores.writing() as cur:
        cur.execute("INSERT INTO operators (tenant, extension, name) VALUES ('default', '515', 'M')")
        c = Cdr(cur, stores.ops)
        for i in range(1205):
            c.dynamic_routing(str(3330000000 + i),
                              datetime(2026, 5, 11, 6, tzinfo=UTC) + timedelta(minutes=i))
        c.commit()
        sync.push_operators(cur, stores.ops)
    hashed = users.hash_password(PASSWORD)
    with stores.ops_write() as c:
        c.execute(schema.users.insert(), [
            {"username": f"op{i:02d}", "password_hash": hashed, "role": "operator",
             "privacy": False, "tenant": "default", "extension": "515"}
            for i in range(OPERATORS)] + [
            {"username": "chief", "password_hash": hashed, "role": "supervisor",
             "privacy": True, "tenant": "default", "extension": None}])
        chief = c.execute(sa.select(schema.users.c.id).where(
            schema.users.c.username == "chief")).scalar_one()
    token = users.issue_token(stores, chief)
    stores.close()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pbxlens", "serve", "--db", str(folder / "store.duckdb"),
         "--ops-url", url, "--port", str(port), "--threads", "16"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"pbxlens serve did not start: {proc.stderr.read().decode()}")
        time.sleep(0.3)
    yield {"base": base, "token": token}
    proc.terminate()
    proc.wait(30)
    os.environ.pop("PBXLENS_LINE_PREFIX", None)
    get_settings.cache_clear()


def _session(base: str, name: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60)
    assert login(c, name).status_code == 302
    return c


def test_fifty_sessions_book_one_request_exactly_one_wins(server):
    with ThreadPoolExecutor(8) as pool:  # the logins hash passwords: in parallel
        clients = list(pool.map(lambda i: _session(server["base"], f"op{i:02d}"),
                                range(OPERATORS)))
    try:
        page = clients[0].get("/api/missed", params={"limit": 1}).json()
        assert page["total"] == 1205
        token = page["rows"][0]["token"]
        barrier = threading.Barrier(OPERATORS)
        answers: list[tuple[str, int, dict]] = []

        def book(i: int) -> None:
            barrier.wait()
            r = clients[i].post(f"/api/missed/{token}/book")
            answers.append((f"op{i:02d}", r.status_code, r.json()))

        threads = [threading.Thread(target=book, args=(i,)) for i in range(OPERATORS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [(who, body) for who, status, body in answers if status == 200]
        assert len(answers) == OPERATORS and len(won) == 1
        winner = won[0][0]
        assert won[0][1]["booked_by"] == winner
        lost = [(status, body) for who, status, body in answers if who != winner]
        assert all(s == 409 and b["error"] == "conflict" and b["booked_by"] == winner
                   for s, b in lost), lost[:3]
        mine = clients[int(winner[2:])].get("/api/missed", params={"view": "booked"}).json()
        assert [r["token"] for r in mine["rows"]] == [token]
        assert mine["rows"][0]["call_num"].endswith("xxx")  # no privacy right: masked
        other = clients[(int(winner[2:]) + 1) % OPERATORS]
        assert other.post(f"/api/missed/{token}/cancel").status_code == 403
        assert clients[int(winner[2:])].post(f"/api/missed/{token}/cancel").status_code == 200
    finally:
        for c in clients:
            c.close()


def test_roles_csrf_and_bearer_tokens(server):
    base = server["base"]
    assert httpx.get(base + "/api/missed").status_code == 401
    with closing(_session(base, "op00")) as c:
        token = c.get("/api/missed", params={"limit": 1}).json()["rows"][0]["token"]
        assert c.get("/api/missed", params={"view": "all"}).status_code == 403
        assert c.post("/api/missed/flush", json={"tokens": [token]}).status_code == 403
        assert c.post(f"/api/missed/{token}/assign", json={"username": "op01"}).status_code == 403
        bare = httpx.post(base + f"/api/missed/{token}/book", cookies=c.cookies)  # no CSRF
        assert bare.status_code == 403
        assert c.post("/api/missed/nope/book").status_code == 404
        assert c.get("/api/missed", params={"view": "nope"}).status_code == 400
    bearer = {"Authorization": f"Bearer {server['token']}"}
    r = httpx.post(base + f"/api/missed/{token}/assign", json={"username": "op01"}, headers=bearer)
    assert r.status_code == 200 and r.json()["booked_by"] == "op01"
    r = httpx.get(base + "/api/missed", params={"view": "open", "limit": 2}, headers=bearer)
    assert r.json()["rows"][0]["call_num"].isdigit()  # the privacy right: full numbers
    r = httpx.post(base + "/api/missed/flush", json={"tokens": [token]}, headers=bearer)
    assert r.status_code == 200 and r.json() == {"flushed": 1}
    with closing(_session(base, "op02")) as c:  # a closed request cannot be booked
        r = c.post(f"/api/missed/{token}/book")
        assert r.status_code == 409 and r.json()["error"] == "not-open"


def test_the_api_pages_past_1000_newest_first(server):
    with closing(_session(server["base"], "op03")) as c:
        seen = []
        for offset in (0, 500, 1000):
            body = c.get("/api/missed", params={"limit": 500, "offset": offset}).json()
            seen += [r["first_call"] for r in body["rows"]]
        assert len(seen) >= 1200 and seen == sorted(seen, reverse=True)
        hidden = c.get("/api/missed", params={"caller": "3330001204"}).json()
        assert hidden["total"] == 0  # hidden digits are not searchable
        assert c.get("/api/missed", params={"caller": "3330001"}).json()["total"] > 0
