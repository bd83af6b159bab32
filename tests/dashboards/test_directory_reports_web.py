"""Directory reports (groups, org units, billing codes, IVR) in the running web app: the
generic report page shows them with their directory dropdowns and charts, the numeric
chart-minutes filter travels from the page, and the JSON API serves them (waitress on a free
port, no mocks)."""

from __future__ import annotations

import json

from tests.dashboards.choices import options
from tests.dashboards.dashcall import show_report
from tests.dashboards.live import DAY1, DAY2


def test_directory_reports_pages_and_api(client_for, live):
    sup = client_for("sup")
    for rid in ("cdr.groups", "cdr.org_units_operators", "cdr.billing_codes"):
        assert sup.get(f"/reports/{rid}?from={DAY1}&to={DAY2}").status_code == 200
    r = show_report(sup, "cdr.ivr", DAY1, DAY2, {"ivr": [], "chart_minutes": "30"})
    assert r.status_code == 200, r.text
    body = json.dumps(r.json()["response"]["rp-content"])
    assert "Graph" in body and "AgGrid" in body
    assert r.json()["response"]["rp-params"]["data"]["filters"] == {"chart_minutes": ["30"]}
    api = sup.get(f"/api/reports/cdr.checktime?from={DAY1}&to={DAY2}&filter=chart_minutes=30")
    doc = api.json()
    assert api.status_code == 200 and len(doc["tables"][1]["rows"]) == 48
    bad = sup.get(f"/api/reports/cdr.checktime?from={DAY1}&to={DAY2}&filter=chart_minutes=x")
    assert bad.status_code == 400
    with live.store.cursor() as cur:
        for key in ("group", "organization", "org_unit", "checktime", "ivr"):
            opts = options(cur, key, "default", "en")
            assert opts and all(o["value"] and o["label"] for o in opts), key
