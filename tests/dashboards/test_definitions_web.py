"""Definitions, drill-down, journeys and staffing in the running server: roles, masking, a
cell's list equal to the cell and its export, definitions and calendars edited from the page
reaching the reports, the journeys list and a call's path, a staffing plan."""

from __future__ import annotations

import base64
import json

import flask
import plotly

from pbxlens.store import users as auth
from tests.dashboards.dashcall import dash_call, show_report
from tests.dashboards.live import DAY1, DAY2

FILTERS = {"status": [], "exit_cause": [], "queue": [], "empty_queue": "no", "hours": []}


def _page(live, username, fn, **kw) -> str:
    u = next(x for x in auth.list_users(live.store) if x.username == username)
    with live.app.server.test_request_context("/"):
        flask.g.user = u
        return json.dumps(fn(**kw), cls=plotly.utils.PlotlyJSONEncoder)


def _find(node, pred):
    out = []
    if isinstance(node, dict):
        if pred(node):
            out.append(node)
        for v in node.values():
            out += _find(v, pred)
    elif isinstance(node, list):
        for v in node:
            out += _find(v, pred)
    return out


def test_pages_for_managers_only(live):
    from pbxlens.dashboards.pages import definitions as defs_page
    from pbxlens.dashboards.pages import journeys as journeys_page
    from pbxlens.dashboards.pages import staffing as staffing_page

    for page in (defs_page.layout, journeys_page.layout, staffing_page.layout):
        assert "pbx-forbidden" in _page(live, "op", page)
        assert "pbx-forbidden" in _page(live, "fin", page)
    assert "df-grid" in _page(live, "sup", defs_page.layout)
    assert "jl-grid" in _page(live, "sup", journeys_page.layout)
    assert "st-queues" in _page(live, "admin", staffing_page.layout)


def _meta_and_click(content, row_index, col):
    metas = _find(content, lambda n: isinstance(n.get("props", {}).get("id"), dict)
                  and n["props"]["id"].get("type") == "rp-table-meta")
    return [m["props"]["data"] for m in metas]


def _drill(client, report_id, params, metas, click, table=0):
    ids = [{"type": "rp-grid", "table": i} for i in range(len(metas))]
    clicks = [click if i == table else None for i in range(len(metas))]
    return dash_call(
        client, [("rp-drill", "children"), ("rp-drill", "style"), ("rp-drill-cell", "data")],
        [[{"id": i, "property": "cellClicked", "value": c} for i, c in zip(ids, clicks,
                                                                           strict=True)]],
        [[{"id": {"type": "rp-table-meta", "table": i}, "property": "data", "value": m}
          for i, m in enumerate(metas)],
         {"id": "rp-params", "property": "data", "value": params},
         {"id": "rp-report", "property": "data", "value": report_id}],
        changed=[json.dumps(ids[table], sort_keys=True, separators=(",", ":"))
                 + ".cellClicked"])


def test_a_count_cell_opens_its_calls_masked_and_exported(client_for):
    for user, privacy in (("sup", False), ("supfull", True)):
        c = client_for(user)
        r = show_report(c, "cdr.queues", DAY1, DAY2, FILTERS)
        body = r.json()["response"]
        metas = _meta_and_click(body["rp-content"], 0, 0)
        meta = metas[0]
        k = meta["columns"].index("unanswered.n")
        grid = _find(body["rp-content"], lambda n: n.get("type") == "AgGrid")[0]["props"]
        value = int(grid["rowData"][0][f"c{k}"].replace(".", "") or 0)
        d = _drill(c, "cdr.queues", body["rp-params"]["data"], metas,
                   {"colId": f"c{k}", "rowIndex": 0, "rowId": "0", "value": value})
        out = d.json()["response"]
        assert out["rp-drill"]["style"] == {"display": "block"}
        cell = out["rp-drill-cell"]["data"]
        assert (cell["row"], cell["column"]) == (meta["rows"][0], "unanswered.n")
        rows = _find(out["rp-drill"]["children"], lambda n: n.get("type") == "AgGrid")[0][
            "props"]["rowData"]
        assert len(rows) == value and all(x["block"] != "NCC" for x in rows)
        external = [x["caller"] for x in rows
                    if sum(ch.isdigit() for ch in x["caller"] or "") > 6]
        assert external and all(x.endswith("xxx") for x in external) != privacy
        assert rows[0]["unique_id"].startswith("[") and "/journeys/" in rows[0]["unique_id"]
        # the totals row (pinned) and the export of every call of the cell
        tot = _drill(c, "cdr.queues", body["rp-params"]["data"], metas,
                     {"colId": f"c{k}", "rowIndex": 0, "rowId": "b-0"}).json()["response"]
        assert tot["rp-drill-cell"]["data"]["row"] is None
        exp = dash_call(c, [("rp-drill-download", "data")],
                        [{"id": "rp-drill-csv", "property": "n_clicks", "value": 1},
                         {"id": "rp-drill-xlsx", "property": "n_clicks", "value": 0}],
                        [{"id": "rp-drill-cell", "property": "data", "value": cell}])
        csv_text = base64.b64decode(exp.json()["response"]["rp-drill-download"]["data"]["content"]
                                    ).decode()
        assert len(csv_text.strip().splitlines()) == value + 1
    # a non-count column opens nothing
    d = _drill(c, "cdr.queues", body["rp-params"]["data"], metas,
               {"colId": f"c{meta['columns'].index('answered.avg_talk')}", "rowIndex": 0,
                "rowId": "0"})
    assert d.status_code == 204 or "rp-drill" not in d.json().get("response", {})


def test_definitions_and_calendars_from_the_page_reach_the_reports(live, client_for):
    c = client_for("sup")
    r = show_report(c, "cdr.queues", DAY1, DAY2, FILTERS)
    queue = r.json()["response"]["rp-params"]["data"] and _meta_and_click(
        r.json()["response"]["rp-content"], 0, 0)[0]["rows"][0]
    save = dash_call(c, [("df-msg", "children"), ("df-grid", "rowData")],
                     [{"id": "df-save", "property": "n_clicks", "value": 1},
                      {"id": "df-delete", "property": "n_clicks", "value": 0}],
                     [{"id": "df-queue", "property": "value", "value": queue},
                      {"id": "df-threshold", "property": "value", "value": 45},
                      {"id": "df-target", "property": "value", "value": 90},
                      {"id": "df-variant", "property": "value", "value": "offered"},
                      {"id": "df-short", "property": "value", "value": 8}],
                     changed=["df-save.n_clicks"])
    try:
        rows = save.json()["response"]["df-grid"]["rowData"]
        mine = next(x for x in rows if x["qkey"] == queue)
        assert (mine["threshold"], mine["target"], mine["short"]) == (45, 90, 8)
        _wait_idle(live)
        api = c.get(f"/api/reports/cdr.queues?from={DAY1}&to={DAY2}").json()
        own = [d for d in api["definitions"] if d["term"].startswith("livello di servizio · ")
               or d["term"].startswith("service level · ")]
        assert len(own) == 1 and "T = 45 s" in own[0]["definition"]
        # a calendar closed all week: every call of the range is outside the hours
        cal = dash_call(c, [("cal-msg", "children"), ("cal-grid", "rowData"),
                            ("cal-pick", "options")],
                        [{"id": k, "property": "n_clicks", "value": 1 if k == "cal-save" else 0}
                         for k in ("cal-save", "cal-add-holiday", "cal-add-closure",
                                   "cal-assign", "cal-unassign", "cal-delete")],
                        [{"id": k, "property": p, "value": v} for k, p, v in (
                            ("cal-name", "value", "Notte"), ("cal-country", "value", "IT"),
                            ("cal-subdiv", "value", ""), ("cal-hours", "value",
                                                          "mon-sun 23:00-23:01"),
                            ("cal-pick", "value", None), ("cal-holiday", "value", None),
                            ("cal-closure", "start_date", None),
                            ("cal-closure", "end_date", None),
                            ("cal-day-name", "value", None), ("cal-queue", "value", ""))],
                        changed=["cal-save.n_clicks"]).json()["response"]
        cal_id = cal["cal-pick"]["options"][0]["value"]
        assign = dash_call(c, [("cal-msg", "children"), ("cal-grid", "rowData"),
                               ("cal-pick", "options")],
                           [{"id": k, "property": "n_clicks", "value": 1 if k == "cal-assign"
                             else 0} for k in ("cal-save", "cal-add-holiday", "cal-add-closure",
                                               "cal-assign", "cal-unassign", "cal-delete")],
                           [{"id": k, "property": p, "value": v} for k, p, v in (
                               ("cal-name", "value", None), ("cal-country", "value", None),
                               ("cal-subdiv", "value", None), ("cal-hours", "value", None),
                               ("cal-pick", "value", cal_id), ("cal-holiday", "value", None),
                               ("cal-closure", "start_date", None),
                               ("cal-closure", "end_date", None),
                               ("cal-day-name", "value", None), ("cal-queue", "value", ""))],
                           changed=["cal-assign.n_clicks"]).json()["response"]
        assert assign["cal-grid"]["rowData"][0]["assigned"]
        _wait_idle(live)
        inside = c.get(f"/api/reports/cdr.dashboard?from={DAY1}&to={DAY2}"
                       "&filter=hours=open").json()
        outside = c.get(f"/api/reports/cdr.dashboard?from={DAY1}&to={DAY2}"
                        "&filter=hours=closed").json()
        every = c.get(f"/api/reports/cdr.dashboard?from={DAY1}&to={DAY2}").json()
        tot = every["tables"][0]["totals"]
        assert (outside["tables"][0]["totals"]["total.answered"] or 0) > 0
        assert ((inside["tables"][0]["totals"]["total.answered"] or 0)
                + outside["tables"][0]["totals"]["total.answered"]) == tot["total.answered"]
    finally:
        from pbxlens.reports import calendars, definitions

        definitions.delete_definition(live.store, "default", queue)
        for cal in calendars.list_calendars(live.store, "default"):
            calendars.delete_calendar(live.store, "default", cal.id)
        _wait_idle(live)


def _wait_idle(live, timeout: float = 30) -> None:
    import time

    end = time.monotonic() + timeout
    while not live.store.writer.idle() and time.monotonic() < end:
        time.sleep(0.05)


def test_journeys_list_and_a_calls_path(live, client_for):
    from pbxlens.dashboards.pages import journey as journey_page

    c = client_for("sup")
    r = dash_call(c, [("jl-grid", "rowData"), ("jl-info", "children")],
                  [{"id": "jl-apply", "property": "n_clicks", "value": 1}],
                  [{"id": "jl-dates", "property": "start_date", "value": DAY1},
                   {"id": "jl-dates", "property": "end_date", "value": DAY2},
                   {"id": "jl-number", "property": "value", "value": ""},
                   {"id": "jl-queue", "property": "value", "value": None},
                   {"id": "jl-hours", "property": "value", "value": 24},
                   {"id": "jl-flags", "property": "value", "value": []}])
    rows = r.json()["response"]["jl-grid"]["rowData"]
    assert len(rows) > 100
    external = [x["caller"] for x in rows if sum(ch.isdigit() for ch in x["caller"]) > 6]
    assert external and all(x.endswith("xxx") for x in external)
    uid = rows[0]["unique_id"].split("]")[0].lstrip("[")
    html_text = _page(live, "sup", journey_page.layout, unique_id=uid)
    assert "jy-steps" in html_text and uid in html_text
    assert "pbx-forbidden" in _page(live, "op", journey_page.layout, unique_id=uid)
    assert "pbx-alert" in _page(live, "sup", journey_page.layout, unique_id="nope")


def test_staffing_plan_from_the_page(client_for, live):
    c = client_for("admin")
    r = dash_call(c, [("st-content", "children")],
                  [{"id": "st-apply", "property": "n_clicks", "value": 1}],
                  [{"id": k, "property": p, "value": v} for k, p, v in (
                      ("st-queues", "value", ["700", "701"]), ("st-dates", "start_date", DAY1),
                      ("st-dates", "end_date", DAY2), ("st-minutes", "value", 30),
                      ("st-day", "value", "weekdays"), ("st-occupancy", "value", 85),
                      ("st-shrinkage", "value", 30), ("st-wrap", "value", 10),
                      ("st-target", "value", None), ("st-threshold", "value", None),
                      ("st-erlang-a", "value", ["a"]))])
    body = r.json()["response"]["st-content"]["children"]
    grids = _find(body, lambda n: n.get("type") == "AgGrid")
    assert len(grids) == 2 and grids[0]["props"]["rowData"]
    assert _find(body, lambda n: n.get("props", {}).get("id") == "st-total")
