"""Web hygiene: redirects stay on this site, state changes only by POST with the CSRF token."""

from __future__ import annotations

import pytest

from tests.dashboards.live import PASSWORD


@pytest.mark.parametrize("nxt", [
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/ /evil.example",
    "/\\evil.example", "\\\\evil.example", "//evil.example", "https://evil.example/",
    "/\x00/evil.example", "javascript:alert(1)", "evil.example", "/%09/evil.example\t",
])
def test_login_never_redirects_off_site(client_for, nxt):
    c = client_for()
    c.get("/login")
    r = c.post("/login", data={"username": "sup", "password": PASSWORD, "next": nxt,
                               "csrf_token": c.cookies["_csrf_token"]})
    assert r.status_code == 302
    assert r.headers["location"] in ("/", "/reports"), r.headers["location"]


def test_a_local_next_is_kept(client_for):
    c = client_for()
    c.get("/login")
    r = c.post("/login", data={"username": "sup", "password": PASSWORD,
                               "next": "/reports/cdr.queues?x=1",
                               "csrf_token": c.cookies["_csrf_token"]})
    assert r.headers["location"] == "/reports/cdr.queues?x=1"


def test_language_and_logout_change_only_by_post_with_csrf(client_for, live):
    from pbxlens.store import users

    sup = client_for("sup")
    lang = next(u for u in users.list_users(live.store) if u.username == "sup").lang
    other = "it" if lang == "en" else "en"
    sup.get(f"/lang/{other}")  # an <img src> cannot switch it (the page router answers)
    sup.get("/logout")  # nor log anyone out
    assert sup.get("/api/reports").status_code == 200
    bare = client_for()
    bare.cookies.update(dict(sup.cookies))  # a cross-site form: the cookie, no token
    assert bare.post(f"/lang/{other}").status_code == 403
    assert bare.post("/logout").status_code == 403
    assert next(u for u in users.list_users(live.store) if u.username == "sup").lang == lang
    assert sup.post(f"/lang/{other}").status_code == 302
    assert next(u for u in users.list_users(live.store) if u.username == "sup").lang == other
    sup.post(f"/lang/{lang}")
    assert sup.post("/logout").status_code == 302
    assert sup.get("/api/reports").status_code == 401


def test_the_nav_posts_logout_and_language_with_the_token(client_for):
    sup = client_for("sup")
    forms = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Form":
                forms.append(node["props"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(sup.get("/_dash-layout").json())
    posts = {f["action"]: f for f in forms if f.get("method") == "post"}
    assert {"/logout", "/lang/en", "/lang/it"} & set(posts) >= {"/logout"}
    assert len(posts) == 2
    for f in posts.values():
        [hidden] = [c["props"] for c in f["children"] if c["props"].get("name") == "csrf_token"]
        assert hidden["value"] == sup.cookies["_csrf_token"]


def test_a_forbidden_export_answers_403_not_500(client_for):
    """The page's XLSX export runs the report through the service as the user: a report the
    user may not see is a 403 with the service's error id, whatever route raised it."""
    op = client_for("op")
    trigger = {"id": {"table": 0, "type": "rp-export"}, "property": "n_clicks", "value": 1}
    body = {
        "output": "rp-download.data", "outputs": {"id": "rp-download", "property": "data"},
        "inputs": [[trigger]],
        "state": [{"id": "rp-params", "property": "data", "value": {}},
                  {"id": "rp-report", "property": "data", "value": "cdr.queues"}],
        "changedPropIds": ['{"table":0,"type":"rp-export"}.n_clicks'],
    }
    r = op.post("/_dash-update-component", json=body)
    assert r.status_code == 403, r.text[:300]
    assert r.json()["error"] == "forbidden"
    sup = client_for("sup")
    assert sup.post("/_dash-update-component", json=body).status_code == 200


def test_hsts_only_when_https_is_set(client_for, live):
    c = client_for()
    assert "strict-transport-security" not in c.get("/login").headers
    cfg = live.app.server.config
    cfg["PBXLENS_HSTS"] = True  # what create_app sets from the https setting
    try:
        assert c.get("/login").headers["strict-transport-security"] == "max-age=31536000"
    finally:
        cfg["PBXLENS_HSTS"] = False
    assert "content-security-policy" in c.get("/login").headers
