"""The running server over HTTP: login and sessions, roles, tenant isolation, report page
data, XLSX export, the JSON API, masking, upload. No mocks: waitress on a free port."""

from __future__ import annotations

import base64
import io
import json
import time

import flask
import httpx
import openpyxl
import plotly

from pbxlens.store import users as auth
from tests.dashboards.choices import options
from tests.dashboards.dashcall import export_table, show_more, show_report
from tests.dashboards.live import DAY1, DAY2, PASSWORD, login

RANGE = f"from={DAY1}&to={DAY2}"


# ----------------------------------------------------------------------------- login


def test_unauthenticated_requests_are_sent_to_login(client_for):
    c = client_for()
    r = c.get("/reports/cdr.queues")
    assert r.status_code == 302 and r.headers["location"].startswith("/login?next=/reports/")
    assert c.get(f"/api/reports/cdr.queues?{RANGE}").status_code == 401
    assert c.post("/_dash-update-component", json={}).status_code == 401
    assert c.get("/login").status_code == 200


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(client_for):
    c = client_for()
    r = login(c, "sup")
    assert r.status_code == 302 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # https setting off in tests
    saved = dict(c.cookies)
    assert c.get("/api/reports").status_code == 200
    c.get("/logout")  # state changes only by POST: a GET logs nobody out
    assert c.get("/api/reports").status_code == 200
    c.post("/logout")
    replay = client_for()
    replay.cookies.update(saved)  # the old cookie is worthless after logout
    assert replay.get("/api/reports").status_code == 401


def test_bad_password_is_refused_and_next_is_kept_local(client_for):
    c = client_for()
    c.get("/login")
    csrf = c.cookies["_csrf_token"]
    r = c.post("/login", data={"username": "sup", "password": "wrong-pass", "next": "/",
                               "csrf_token": csrf})
    assert r.status_code == 401 and "wrong username or password" in r.text
    r = c.post("/login", data={"username": "sup", "password": PASSWORD,
                               "next": "//evil.example/x", "csrf_token": csrf})
    assert r.headers["location"] == "/"


def test_posts_without_the_csrf_token_are_refused(client_for, live):
    c = client_for()
    c.get("/login")
    r = c.post("/login", data={"username": "sup", "password": PASSWORD, "next": "/"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    sup = client_for("sup")
    assert sup.cookies["_csrf_token"] == sup.headers["X-CSRFToken"]
    body = {"output": "x.children", "outputs": {"id": "x", "property": "children"},
            "inputs": [], "changedPropIds": []}
    forged = client_for()
    forged.cookies.update(dict(sup.cookies))  # the session cookie alone (a cross-site form)
    r = forged.post("/_dash-update-component", json=body)
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    r = forged.post("/_dash-update-component", json=body, headers={"X-CSRFToken": "guess"})
    assert r.status_code == 403
    # the API's bearer tokens are not cookies: no CSRF token needed there
    assert httpx.get(live.base_url + "/api/reports",
                     headers={"Authorization": f"Bearer {live.tokens['sup']}"}).status_code == 200


# ----------------------------------------------------------------------------- roles


def test_roles_decide_the_visible_reports(client_for):
    ids = {name: {d["id"] for d in client_for(name).get("/api/reports").json()["reports"]}
           for name in ("admin", "sup", "fin", "op")}
    assert "cdr.queues" in ids["sup"]
    assert ids["sup"] == {i for i in ids["admin"] if not i.startswith("billing.")}
    assert ids["fin"] and all(i.startswith("billing.") for i in ids["fin"])
    assert ids["op"] == set()
    r = client_for("op").get(f"/api/reports/cdr.queues?{RANGE}")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_roles_decide_the_pages(live):
    from pbxlens.dashboards.pages import admin_ingest, admin_users, home, report, widgets

    def page(username, fn, **kw):
        u = next(x for x in auth.list_users(live.store) if x.username == username)
        with live.app.server.test_request_context("/"):
            flask.g.user = u
            return json.dumps(fn(**kw), cls=plotly.utils.PlotlyJSONEncoder)

    assert "pbx-forbidden" in page("sup", admin_users.layout)
    assert "pbx-forbidden" in page("sup", admin_ingest.layout)
    assert "au-grid" in page("admin", admin_users.layout)
    assert "ai-batches" in page("admin", admin_ingest.layout)
    assert "pbx-forbidden" in page("op", report.layout, report_id="cdr.queues")
    assert "rp-filterbar" in page("sup", report.layout, report_id="cdr.queues")
    assert "home-empty" in page("op", home.layout)
    assert "cdr.queues" in page("sup", home.layout)
    assert "pbx-forbidden" in page("op", widgets.layout)


def test_admin_only_endpoints(client_for):
    assert client_for("sup").get("/admin/upload").status_code == 403
    assert client_for("admin").get("/admin/upload").status_code == 200


# ----------------------------------------------------------------------------- tenants


def test_tenant_isolation(live, client_for):
    # directory filters show only the user's tenant
    with live.store.cursor() as cur:
        default_q = {o["label"] for o in options(cur, "queue", "default", "en")}
        acme_q = {o["label"] for o in options(cur, "queue", "acme", "en")}
    assert "Acme Only (9901)" not in default_q and acme_q == {"Acme Only (9901)"}
    # the store holds only 'default' calls: reports are scoped to the user's tenant
    acme = client_for("acme").get(f"/api/reports/cdr.queues?{RANGE}")
    default = client_for("sup").get(f"/api/reports/cdr.queues?{RANGE}")
    assert acme.status_code == default.status_code == 200
    assert default.json()["tables"][0]["totals"]["total.n"] > 0
    assert not acme.json()["tables"][0]["totals"].get("total.n")


# ----------------------------------------------------------------------------- API


def test_api_returns_the_json_contract(client_for, live):
    r = client_for("sup").get(f"/api/reports/cdr.queues?{RANGE}&lang=it")
    assert r.status_code == 200
    d = r.json()
    assert d["report"] == "cdr.queues" and d["filters"]["from"] == DAY1
    t = d["tables"][0]
    assert {"title", "columns", "rows", "totals", "summary"} <= set(t)
    assert t["totals"]["total.n"] == sum(row["total.n"] for row in t["rows"]) > 0
    # filters narrow the result; a bad filter is a 400 with a stable id
    one_q = t["rows"][0]["key"]
    r2 = client_for("sup").get(f"/api/reports/cdr.queues?{RANGE}&filter=queue={one_q}")
    assert [x["key"] for x in r2.json()["tables"][0]["rows"]] == [one_q]
    bad = client_for("sup").get(f"/api/reports/cdr.queues?{RANGE}&filter=nope=1")
    assert bad.status_code == 400 and bad.json()["error"] == "bad-filter"
    assert client_for("sup").get("/api/reports/no.such").status_code == 404


def test_api_bearer_token(live, client_for):
    c = client_for()
    ok = c.get(f"/api/reports/cdr.queues?{RANGE}",
               headers={"Authorization": f"Bearer {live.tokens['sup']}"})
    assert ok.status_code == 200
    bad = c.get(f"/api/reports/cdr.queues?{RANGE}",
                headers={"Authorization": f"Bearer {live.tokens['sup']}x"})
    assert bad.status_code == 401
    # a token opens the API only, not the pages
    assert c.get("/", headers={"Authorization": f"Bearer {live.tokens['sup']}"}).status_code == 302


def test_api_masks_numbers_without_the_privacy_right(client_for):
    q = f"/api/reports/cdr.dashboard?{RANGE}&filter=source=0461123456"
    assert client_for("sup").get(q).json()["filters"]["source"] == ["0461123xxx"]
    assert client_for("supfull").get(q).json()["filters"]["source"] == ["0461123456"]


# ----------------------------------------------------------------------------- page data


def test_report_page_data_masked_and_filtered(client_for):
    r = show_report(client_for("sup"), "cdr.dashboard", DAY1, DAY2,
                    {"status": [], "source": "0461123456", "destination": ""})
    assert r.status_code == 200
    text = json.dumps(r.json()["response"]["rp-content"])  # rp-params echoes what was typed
    assert "0461123xxx" in text and "0461123456" not in text
    r = show_report(client_for("supfull"), "cdr.dashboard", DAY1, DAY2,
                    {"source": "0461123456"})
    assert "0461123456" in r.text


def _grid_keys(content) -> list[str]:
    return [g["props"]["id"]["table"] for g in _find(content, "AgGrid")]


def test_report_page_shows_its_first_tables_then_the_rest_from_the_same_result(
        client_for, monkeypatch):
    from pbxlens.dashboards.components import report_view

    monkeypatch.setattr(report_view, "EAGER_ROWS", 1)  # the first table only, then the rest
    c = client_for("sup")
    api = c.get(f"/api/reports/cdr.queue_operators?{RANGE}&lang=it").json()  # sup reads it
    assert len(api["tables"]) >= 2
    body = show_report(c, "cdr.queue_operators", DAY1, DAY2, {}).json()["response"]
    content = body["rp-content"]["children"]
    assert _grid_keys(content) == [0]
    more = next(x["props"]["data"] for x in content if x["props"].get("id") == "rp-more-key")
    assert more["from"] == 1
    params = body["rp-params"]["data"]
    rest = show_more(c, more, params, "cdr.queue_operators").json()["response"]
    later = rest["rp-more"]["children"]
    assert _grid_keys(later) == list(range(1, len(api["tables"])))
    titles = [h["props"]["children"] for h in _find(later, "H3")]
    assert titles == [t["title"] for t in api["tables"][1:]]
    # the key is taken once: asked again (or from another process) the report runs again
    again = show_more(c, more, params, "cdr.queue_operators").json()["response"]
    assert json.dumps(again["rp-more"]["children"]) == json.dumps(later)
    # another user's key holds nothing for this one: the report runs in this user's scope
    other = client_for("supfull")
    body2 = show_report(other, "cdr.queue_operators", DAY1, DAY2, {}).json()["response"]
    more2 = next(x["props"]["data"] for x in body2["rp-content"]["children"]
                 if x["props"].get("id") == "rp-more-key")
    theirs = show_more(c, more2, params, "cdr.queue_operators").json()["response"]
    assert json.dumps(theirs["rp-more"]["children"]) == json.dumps(later)


def test_report_page_grid_has_rows_totals_and_two_level_headers(client_for):
    r = show_report(client_for("sup"), "cdr.queues", DAY1, DAY2,
                    {"status": [], "exit_cause": [], "queue": [], "empty_queue": "no"})
    body = r.json()["response"]
    grids = _find(body["rp-content"]["children"], "AgGrid")
    assert grids
    g = grids[0]["props"]
    assert len(g["rowData"]) >= 3
    totals = g["dashGridOptions"]["pinnedBottomRowData"][0]
    assert totals["_cls"] == "total" and totals["label"] == "Totali"  # sup reads Italian
    assert all("children" in cd for cd in g["columnDefs"][1:])  # groups over metrics
    assert body["rp-params"]["data"]["from"] == DAY1


def _find(node, typ):
    out = []
    if isinstance(node, dict):
        if node.get("type") == typ:
            out.append(node)
        for v in node.values():
            out += _find(v, typ)
    elif isinstance(node, list):
        for v in node:
            out += _find(v, typ)
    return out


def test_xlsx_export_is_typed_and_masked_like_the_page(client_for):
    params = {"from": DAY1, "to": DAY2, "filters": {"source": ["0461123456"]}, "lang": "en"}
    r = export_table(client_for("sup"), "cdr.dashboard", params, table=0)
    assert r.status_code == 200, r.text
    data = r.json()["response"]["rp-download"]["data"]
    assert data["filename"].endswith(".xlsx") and data["base64"]
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data["content"])))
    ws = wb.worksheets[0]
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert any(isinstance(v, int | float) for v in values)
    assert "0461123456" not in " ".join(str(v) for v in values)

    r = export_table(client_for("sup"), "cdr.queues", {"from": DAY1, "to": DAY2, "filters": {}})
    data = r.json()["response"]["rp-download"]["data"]
    ws = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data["content"]))).worksheets[0]
    labels = [row[0] for row in ws.iter_rows(values_only=True)]
    assert "Totali" in labels


def test_export_is_refused_to_roles_without_the_report(client_for):
    r = export_table(client_for("op"), "cdr.queues", {"from": DAY1, "to": DAY2, "filters": {}})
    assert r.status_code >= 400 or "rp-download" not in r.text


# ----------------------------------------------------------------------------- upload


def test_upload_is_a_writer_job_the_page_follows(live, client_for):
    c = client_for("admin")
    sample = next((live.folder / "sim").glob("*.csv"))
    r = c.post("/admin/upload", files={"files": (sample.name, sample.read_bytes(), "text/csv")})
    assert r.status_code == 302 and "/admin/upload?job=" in r.headers["location"]
    job_id = int(r.headers["location"].rsplit("=", 1)[1])
    for _ in range(600):  # the page refreshes itself while the job runs
        page = c.get(r.headers["location"])
        if 'http-equiv="refresh"' not in page.text:
            break
        time.sleep(0.1)
    assert page.status_code == 200 and "already loaded" in page.text  # same bytes: idempotent
    job = c.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "done" and job["kind"] == "upload" and job["created_by"] == "admin"
    assert client_for("sup").get(f"/api/jobs/{job_id}").status_code == 403
    server = live.app.server
    old = server.config["MAX_CONTENT_LENGTH"]
    server.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        big = c.post("/admin/upload", files={"files": ("x.csv", b"a" * 5000, "text/csv")})
    finally:
        server.config["MAX_CONTENT_LENGTH"] = old
    assert big.status_code == 413


def test_login_page_speaks_the_browser_language(live):
    import httpx

    it = httpx.get(live.base_url + "/login", headers={"Accept-Language": "it-IT,it;q=0.9"})
    en = httpx.get(live.base_url + "/login", headers={"Accept-Language": "en-US"})
    assert "Accedi" in it.text and 'lang="it"' in it.text
    assert "Log in" in en.text and "Accedi" not in en.text
    assert "Nome utente" in httpx.get(live.base_url + "/login?lang=it").text
