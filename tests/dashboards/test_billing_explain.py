"""Why this cost over real HTTP (the live server): roles, tenant, privacy masking, the page
and the "why" link in the calls listed behind a billing report's cell."""

from __future__ import annotations

import json

import flask
import plotly

from pbxlens.store import users as auth


def _uid(live) -> str:
    with live.store.cursor() as cur:
        return cur.execute("SELECT rc.unique_id FROM rating_calls rc JOIN rating_keys k "
                           "ON k.kid = rc.kid WHERE k.dir = 'out' AND length(k.num) >= 9 "
                           "ORDER BY 1 LIMIT 1").fetchone()[0]


def test_api_roles_privacy_and_errors(live, client_for):
    uid = _uid(live)
    r = client_for("fin").get(f"/api/billing/explain/{uid}")
    assert r.status_code == 200, r.text
    (call,) = r.json()["calls"]
    assert call["unique_id"] == uid and call["agrees"] and call["number"].endswith("xxx")
    assert call["cost"] == call["stored_cost"]
    full = client_for("admin").get(f"/api/billing/explain/{uid}").json()["calls"][0]
    assert not full["number"].endswith("xxx") and full["number"][:-3] == call["number"][:-3]
    assert client_for("sup").get(f"/api/billing/explain/{uid}").status_code == 403
    assert client_for().get(f"/api/billing/explain/{uid}").status_code == 401
    nope = client_for("fin").get("/api/billing/explain/no-such-call")
    assert nope.status_code == 404 and "no such call" in nope.json()["message"]
    other = client_for("fin").get(f"/api/billing/explain/{uid}?method=profile")
    assert other.status_code == 200 and other.json()["calls"][0]["method"] is None


def _page(live, username, **kw) -> str:
    from pbxlens.dashboards.pages import billing_explain

    u = next(x for x in auth.list_users(live.store) if x.username == username)
    with live.app.server.test_request_context("/"):
        flask.g.user = u
        return json.dumps(billing_explain.layout(**kw), cls=plotly.utils.PlotlyJSONEncoder)


def test_page(live):
    uid = _uid(live)
    page = _page(live, "fin", unique_id=uid)
    assert "why-page" in page and uid in page and "pbx-why-steps" in page
    assert "Costo registrato" in page or "Stored cost" in page
    assert "pbx-forbidden" in _page(live, "sup", unique_id=uid)
    assert "no such call" in _page(live, "fin", unique_id="nope")


def test_drill_panel_links_calls_to_their_explanation():
    from pbxlens.dashboards.components.report_view import drill_panel
    from pbxlens.reports.drilldown import Cell, DrillResult

    res = DrillResult(Cell("billing.by_month", "month", "2026-05", "qty.n"), 1, 1,
                      [{"key": "unique_id", "label": "call id", "unit": "text"}],
                      [{"unique_id": "123.4"}], False)
    grid = drill_panel(res, "en", "x", explain=True)[-1]
    assert grid.columnDefs[1]["field"] == "why"
    assert grid.rowData[0]["why"] == "[why](/billing/explain/123.4)"
    assert "why" not in drill_panel(res, "en", "x")[-1].rowData[0]


def test_billing_home_counts_unrated_calls(live):
    from pbxlens.dashboards.pages import billing_home

    u = next(x for x in auth.list_users(live.store) if x.username == "fin")
    with live.app.server.test_request_context("/"):
        flask.g.user = u
        with live.store.cursor() as cur:
            from pbxlens.billing import unrated

            n = unrated.count(cur, None, None, tenant="default")
        note = json.dumps(billing_home.unrated_note(None, None, "en"),
                          cls=plotly.utils.PlotlyJSONEncoder)
        page = json.dumps(billing_home.layout(), cls=plotly.utils.PlotlyJSONEncoder)
    assert "bh-unrated" in page
    if n:
        assert f'"data-count": "{n}"' in note and "billing.unrated" in note
    else:
        assert "No unrated calls" in note


def test_carrier_invoice_upload(live, client_for):
    import base64

    from tests.dashboards.dashcall import dash_call

    with live.store.cursor() as cur:
        line, num, start, secs = cur.execute(
            "SELECT k.line, k.num, strftime(c.start_local, '%d/%m/%Y %H:%M:%S'), rc.s "
            "FROM rating_calls rc JOIN rating_keys k ON k.kid = rc.kid JOIN calls c "
            "ON c.tenant = rc.tenant AND c.unique_id = rc.unique_id "
            "AND c.leg_branch = rc.leg_branch WHERE k.dir = 'out' AND length(k.num) >= 9 "
            "ORDER BY rc.unique_id LIMIT 1").fetchone()
    csv = f"Numero;Data;Durata;Importo\n{num};{start};{secs};0,5\nxx;;;\n"
    data = "data:text/csv;base64," + base64.b64encode(csv.encode()).decode()

    def upload(user, gateway):
        state = [{"id": "bh-cr-upload", "property": "filename", "value": "fattura.csv"},
                 {"id": "bh-cr-gw", "property": "value", "value": gateway},
                 {"id": "bh-cr-cols", "property": "value",
                  "value": "number=Numero,start=Data,duration=Durata,cost=Importo"},
                 {"id": "bh-cr-fmt", "property": "value", "value": "%d/%m/%Y %H:%M:%S"}]
        return dash_call(client_for(user), [("bh-cr-msg", "children")],
                         [{"id": "bh-cr-upload", "property": "contents", "value": data}], state)

    r = upload("fin", line)
    assert r.status_code == 200, r.text
    text = json.dumps(r.json())
    assert "1 righe importate, 1 scartate, 1 abbinate" in text, text
    assert "gi\\u00e0 stato importato" in json.dumps(upload("fin", line).json())
    refused = json.dumps(upload("sup", line).json())
    assert "Non puoi vedere" in refused and "importate" not in refused
    got = client_for("fin").get("/api/reports/billing.carrier?from=2026-05-11&to=2026-05-12")
    assert got.status_code == 200 and got.json()["tables"][0]["totals"]["lines.matched"] == 1
