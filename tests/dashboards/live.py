"""One live pbxlens server per test process (Dash registries are per process), shared by
tests/dashboards and tests/browser: waitress in a thread on 127.0.0.1, a free port, a real
store with two simulated weekdays (seed 11) and one user per role."""

from __future__ import annotations

import functools
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

PASSWORD = "correct-horse-1"
DAY1, DAY2 = "2026-05-11", "2026-05-12"
USERS = {  # username -> (role, privacy, tenant)
    "admin": ("admin", True, "default"),
    "sup": ("supervisor", False, "default"),
    "supfull": ("supervisor", True, "default"),
    "fin": ("finance", False, "default"),
    "op": ("operator", False, "default"),
    "acme": ("supervisor", True, "acme"),
}


@dataclass
class Live:
    base_url: str
    store: object
    folder: Path
    tokens: dict = field(default_factory=dict)
    app: object = None
    server: object = None


@functools.cache
def live_server() -> Live:
    import waitress

    from pbxlens.dashboards.server import create_app
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate
    from pbxlens.store import Stores as Store
    from pbxlens.store import users as auth

    folder = Path(tempfile.mkdtemp(prefix="pbxlens-web-"))
    generate(folder / "sim", days=2, calls_per_day=250, seed=11, start=date(2026, 5, 11),
             formats=["csv-detailed"])
    store = Store(folder / "store.duckdb", threaded_writer=True)
    store.writer.start()
    with store.writing() as cur:
        ingest_paths(cur, [folder / "sim"])
        # another tenant's directory: must never appear in the default tenant's filters
        cur.execute("INSERT INTO queues (tenant, id, name) VALUES ('acme', '9901', 'Acme Only')")
    live = Live(base_url="", store=store, folder=folder)
    for name, (role, privacy, tenant) in USERS.items():
        u = auth.create_user(store, name, PASSWORD, role, privacy=privacy, tenant=tenant)
        live.tokens[name] = auth.issue_token(store, u.id)
    app = live.app = create_app(store, https=False)
    server = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, name="pbxlens-test-server", daemon=True).start()
    live.base_url = f"http://127.0.0.1:{server.effective_port}"
    live.server = server
    return live


def stop_live_server() -> None:
    """At the session's end, when the server was started: no more requests, the running ones
    finished, the background threads joined. A thread still inside DuckDB when the interpreter
    ends aborts the process (see pbxlens.background), and the run with it."""
    if not live_server.cache_info().currsize:
        return
    from pbxlens import background

    server = live_server().server
    server.close()  # no new connections
    server.task_dispatcher.shutdown(timeout=10)  # the running requests finish
    background.stop_all()


def login(client, username: str, password: str = PASSWORD):
    """Log in like the browser does (the form's CSRF token included); afterwards the client
    sends the session's CSRF token as X-CSRFToken on every request, as dash-renderer does."""
    client.get("/login")
    r = client.post("/login", data={"username": username, "password": password, "next": "/",
                                    "csrf_token": client.cookies.get("_csrf_token", "")})
    if r.status_code == 302:
        client.get("/health")  # the token is renewed with the new session
        client.headers["X-CSRFToken"] = client.cookies.get("_csrf_token", "")
    return r
