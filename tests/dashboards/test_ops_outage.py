"""PostgreSQL unreachable: every page says so (503 with a retrying page, JSON for the API and
Dash callbacks) and the app recovers by itself when the database returns."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.dashboards.live import PASSWORD, login
from tests.pgcluster import Cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_pages_say_the_database_is_down_and_recover(tmp_path):
    cluster = Cluster()
    try:
        url = cluster.new_database()
        env = {**os.environ, "PBXLENS_OPS_URL": url}
        db = str(tmp_path / "s.duckdb")
        subprocess.run([sys.executable, "-m", "pbxlens", "users", "add", "sup", "--role",
                        "supervisor", "--password", PASSWORD, "--db", db], env=env, check=True,
                       capture_output=True, timeout=120)
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "pbxlens", "serve", "--db", db,
                                   "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            with httpx.Client(base_url=base, timeout=30) as c:
                assert login(c, "sup").status_code == 302
                assert c.get("/", headers={"Accept": "text/html"}).status_code == 200
                cluster.pause()
                page = c.get("/", headers={"Accept": "text/html"})
                assert page.status_code == 503 and 'id="ops-unavailable"' in page.text
                assert 'http-equiv="refresh"' in page.text and page.headers["Retry-After"]
                api = c.get("/api/reports")
                assert api.status_code == 503 and api.json()["error"] == "ops-unavailable"
                cluster.resume()
                for _ in range(100):  # the pool reconnects (pre-ping) on the next request
                    page = c.get("/", headers={"Accept": "text/html"})
                    if page.status_code == 200:
                        break
                    time.sleep(0.2)
                assert page.status_code == 200
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    finally:
        cluster.stop()


def test_the_intake_callback_api_says_the_database_is_down_and_recovers(tmp_path):
    """The operators' callback API of the intake processes (no DuckDB, Bearer tokens): 503
    with Retry-After and the catalog's text in the client's language, then 200 again."""
    from pbxlens.dashboards import i18n, missed_api
    from pbxlens.store import OpsOnly, Stores
    from pbxlens.store import users as auth

    cluster = Cluster()
    try:
        url = cluster.new_database()
        with Stores(tmp_path / "s.duckdb", url) as store:  # the server migrates the store
            token = auth.issue_token(store, auth.create_user(
                store, "op", PASSWORD, "operator", extension="201").id)
        stores = OpsOnly(url)
        try:
            c = missed_api.side_app(stores).test_client()
            headers = {"Authorization": f"Bearer {token}", "Accept-Language": "it"}
            assert c.get("/api/missed", headers=headers).status_code == 200
            cluster.pause()
            r = c.get("/api/missed", headers=headers)
            assert r.status_code == 503 and r.headers["Retry-After"] == "5"
            assert r.get_json() == {"error": "ops-unavailable", "status": 503,
                                    "message": i18n.t("ops_unavailable", "it")}
            cluster.resume()
            for _ in range(100):  # the pool reconnects (pre-ping) on the next request
                r = c.get("/api/missed", headers=headers)
                if r.status_code == 200:
                    break
                time.sleep(0.2)
            assert r.status_code == 200
        finally:
            stores.close()
    finally:
        cluster.stop()
