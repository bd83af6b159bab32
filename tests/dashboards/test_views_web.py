"""The report page's URL state, saved views and background exports over HTTP on the live server
(waitress, real stores): the applied line names what was chosen, the search string the page puts
in its URL reads back to the same report, a saved view opens by URL for whoever may see it, and an
export's link works for the user who asked only, until it expires."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import openpyxl
import sqlalchemy as sa

from pbxlens.reports import get
from pbxlens.store import schema as T
from pbxlens.views import exports, query, saved
from tests.dashboards.dashcall import dash_call, show_report
from tests.dashboards.live import DAY1, DAY2


def _queue(live):
    with live.store.cursor() as cur:
        qid, name = cur.execute("SELECT id, name FROM queues WHERE tenant = 'default' "
                                "AND name IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    return qid, name


def test_the_applied_line_shows_names_and_the_url_reads_back(live, client_for):
    qid, name = _queue(live)
    r = show_report(client_for("sup"), "cdr.queues", DAY1, DAY2,
                    {"status": [], "exit_cause": [], "queue": [qid], "empty_queue": "no"})
    body = r.json()["response"]
    search = body["rp-search"]["data"]
    assert search == f"?from={DAY1}&to={DAY2}&filter=queue={qid}"
    applied = json.dumps(body["rp-content"], ensure_ascii=False)
    assert f"Coda = {name} ({qid})" in applied  # sup reads Italian; the name, not only the id
    # the URL the page writes gives the same parameters back (what a reload does)
    args = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(search[1:]).items()}
    q = query.parse(get("cdr.queues"), args)
    assert (q.date_from.isoformat(), q.date_to.isoformat(), q.filters) == (DAY1, DAY2,
                                                                          {"queue": [qid]})


def test_a_relative_period_wins_over_the_dates(client_for):
    r = show_report(client_for("sup"), "cdr.queues", DAY1, DAY2, {"queue": []},
                    period="last_month")
    body = r.json()["response"]
    assert body["rp-search"]["data"] == "?period=last_month"
    d_from = datetime.fromisoformat(body["rp-params"]["data"]["from"])
    assert d_from.day == 1 and body["rp-params"]["data"]["from"] != DAY1
    api = client_for("sup").get("/api/reports/cdr.queues?period=last_month&from=2020-01-01")
    assert api.json()["filters"]["from"] == body["rp-params"]["data"]["from"]
    assert client_for("sup").get("/api/reports/cdr.queues?period=soon").status_code == 400


def _save(client, name: str, search: str, report: str = "cdr.queues", shared=True):
    return dash_call(client, [("rp-sv-msg", "children")],
                     [{"id": "rp-sv-save", "property": "n_clicks", "value": 1}],
                     [{"id": "rp-sv-name", "property": "value", "value": name},
                      {"id": "rp-sv-shared", "property": "value", "value": ["y"] if shared else []},
                      {"id": "rp-report", "property": "data", "value": report},
                      {"id": "rp-search", "property": "data", "value": search}])


def test_a_view_saved_from_the_page_opens_by_url_for_its_tenant(live, client_for):
    qid, _ = _queue(live)
    sup = client_for("sup")
    r = _save(sup, "Coda settimana scorsa", f"?period=last_week&filter=queue={qid}")
    assert "Vista salvata" in r.text
    views = {v["name"]: v for v in client_for("supfull").get("/api/views").json()["views"]}
    v = views["Coda settimana scorsa"]
    assert v["period"] == "last_week" and v["filters"] == {"queue": [qid]} and v["owner"] == "sup"
    opened = client_for("supfull").get(f"/views/{v['id']}")
    assert opened.status_code == 302
    assert opened.headers["location"] == f"/reports/cdr.queues?period=last_week&filter=queue={qid}"
    assert client_for("acme").get(f"/views/{v['id']}").status_code == 404  # another tenant
    assert client_for("fin").get(f"/views/{v['id']}").status_code == 404  # not their report
    assert "Coda settimana scorsa" not in client_for("acme").get("/api/views").text
    bad = _save(sup, "", "?period=last_week")
    assert "pbx-alert" in bad.text


_BG_OUT = [("rp-bg-id", "data"), ("rp-bg-poll", "disabled"), ("rp-bg", "style"),
           ("rp-bg-status", "children"), ("rp-bg-link", "href"), ("rp-bg-link", "style")]


def _bg(client, trigger: dict, export_id, report: str = "cdr.queues", params=None):
    return dash_call(client, _BG_OUT, [{"id": "rp-bg-btn", "property": "n_clicks", "value": 1},
                                       {"id": "rp-bg-poll", "property": "n_intervals",
                                        "value": 1}],
                     [{"id": "rp-bg-id", "property": "data", "value": export_id},
                      {"id": "rp-params", "property": "data", "value": params},
                      {"id": "rp-report", "property": "data", "value": report}],
                     changed=[f"{trigger['id']}.{trigger['property']}"])


def _bg_start(client, report: str, params: dict):
    return _bg(client, {"id": "rp-bg-btn", "property": "n_clicks"}, None, report, params)


def _bg_follow(client, export_id):
    return _bg(client, {"id": "rp-bg-poll", "property": "n_intervals"}, export_id)


def test_a_background_export_is_downloaded_by_its_user_only_until_it_expires(live, client_for):
    sup = client_for("sup")
    params = {"from": DAY1, "to": DAY2, "filters": {}, "lang": "it"}
    r = _bg_start(sup, "cdr.queues", params)
    export_id = r.json()["response"]["rp-bg-id"]["data"]
    assert isinstance(export_id, int)
    assert exports.run_queued(live.store) >= 1  # the server's export worker
    done = _bg_follow(sup, export_id).json()["response"]
    href = done["rp-bg-link"]["href"]
    assert href.startswith(f"/exports/{export_id}/") and "Pronto" in done["rp-bg-status"]["children"]
    assert done["rp-bg-poll"]["disabled"] is True
    got = sup.get(href)
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0]
    api = sup.get(f"/api/reports/cdr.queues?from={DAY1}&to={DAY2}").json()
    assert [r[0] for r in ws.iter_rows(min_row=4, values_only=True)][:-1] == \
        [row["label"] for row in api["tables"][0]["rows"]]
    # another user, even with the link; a wrong token; then the link expires
    assert client_for("supfull").get(href).status_code == 404
    assert sup.get(f"/exports/{export_id}/{'0' * 40}").status_code == 404
    assert _bg_follow(client_for("supfull"), export_id).json()["response"]["rp-bg-link"]["href"] \
        is None
    with live.store.ops_write() as c:
        c.execute(T.report_exports.update().where(T.report_exports.c.id == export_id)
                  .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert sup.get(href).status_code == 410
    assert exports.prune(live.store) >= 1
    with live.store.ops_read() as c:
        row = c.execute(sa.select(T.report_exports).where(
            T.report_exports.c.id == export_id)).mappings().one()
    assert row["state"] == "expired" and row["file_id"] is None
    # roles: an operator cannot export a report it may not see
    op = _bg_start(client_for("op"), "cdr.queues", params)
    assert "pbx-alert" in op.text


def test_the_views_page_creates_and_lists_schedules(live, client_for):
    sup = client_for("sup")
    from pbxlens.store import users

    sup_user = next(u for u in users.list_users(live.store) if u.username == "sup")
    view = saved.save(live.store, sup_user, "Per la pagina", "cdr.queues",
                      query.ReportQuery("yesterday"))
    state = [{"id": "vw-sc-view", "property": "value", "value": view.id},
             {"id": "vw-sc-freq", "property": "value", "value": "monthly"},
             {"id": "vw-sc-weekday", "property": "value", "value": 1},
             {"id": "vw-sc-mday", "property": "value", "value": -1},
             {"id": "vw-sc-time", "property": "value", "value": "06:30"},
             {"id": "vw-sc-format", "property": "value", "value": "pdf"},
             {"id": "vw-sc-lang", "property": "value", "value": "it"},
             {"id": "vw-sc-users", "property": "value", "value": []},
             {"id": "vw-sc-emails", "property": "value", "value": "cfo@acme.it; ops@acme.it"}]
    outputs = [("vw-views", "children"), ("vw-scheds", "children"), ("vw-msg", "children"),
               ("vw-sc-view", "options"), ("vw-log", "children")]
    r = dash_call(sup, outputs, [[], [], {"id": "vw-sc-create", "property": "n_clicks",
                                          "value": 1}], state,
                  changed=["vw-sc-create.n_clicks"])
    assert r.status_code == 200, r.text
    body = json.dumps(r.json()["response"], ensure_ascii=False)
    assert "Invio programmato creato" in body and "mensile, ultimo giorno, 06:30" in body
    assert "PDF" in body and "Per la pagina" in body
