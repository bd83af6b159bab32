"""Privacy crawl: every API answer a user without the privacy right can get (every report
they may run, as JSON, the missed-call queue, views, jobs, stats, the page layouts) is
searched for the full external numbers of the store; none may appear. The same crawl as a
user with the right finds them, so the search itself is known to work."""

from __future__ import annotations

import base64
import json
import re

import pytest

from pbxlens.store import privacy
from tests.dashboards.live import DAY1, DAY2

PAGES = ("/", "/missed", "/tickets", "/trace", "/billing", "/journeys", "/staffing")


def _full_numbers(live) -> set[str]:
    with live.store.cursor() as cur:
        rows = cur.execute(
            "SELECT caller FROM calls UNION SELECT called FROM calls"
            " UNION SELECT source_num FROM call_legs UNION SELECT dest_num FROM call_legs"
        ).fetchall()
    digits = {re.sub(r"\D", "", r[0] or "") for r in rows}
    return {d for d in digits if len(d) >= privacy.MIN_EXTERNAL_DIGITS}


def _crawl(client) -> dict[str, str]:
    """path -> body of every answer the user's own API listing leads to."""
    out: dict[str, str] = {}
    listing = client.get("/api/reports")
    out["/api/reports"] = listing.text
    ids = [r["id"] for r in listing.json().get("reports", [])] if listing.status_code == 200 \
        else []
    for rid in ids:
        path = f"/api/reports/{rid}?from={DAY1}&to={DAY2}"
        out[path] = client.get(path).text
    for path in ("/api/missed?view=all", "/api/views", "/api/jobs", "/api/events/stats",
                 "/_dash-layout", *PAGES):
        out[path] = client.get(path).text
    return out


def _leaks(bodies: dict[str, str], numbers: set[str]) -> list[tuple[str, str]]:
    found = []
    for path, body in bodies.items():
        digits_runs = set(re.findall(r"\d{7,}", re.sub(r"(?<=\d)[ .-](?=\d)", "", body)))
        found += [(path, n) for n in numbers if any(n in run for run in digits_runs)]
    return found


@pytest.mark.parametrize("who", ["sup", "fin", "op"])
def test_no_full_external_number_reaches_a_user_without_the_right(client_for, live, who):
    numbers = _full_numbers(live)
    assert len(numbers) > 50
    bodies = _crawl(client_for(who))
    assert len(bodies) > 10
    leaks = _leaks(bodies, numbers)
    assert not leaks, leaks[:10]


def test_the_crawl_finds_numbers_when_the_right_is_held(client_for, live):
    leaks = _leaks(_crawl(client_for("supfull")), _full_numbers(live))
    assert {p for p, _n in leaks} >= {"/api/missed?view=all"}  # the callback queue


def _xlsx_text(client, report_id: str) -> str:
    """The text of the page's XLSX export of a report's first table (its inflated XML)."""
    import base64
    import io
    import zipfile

    trigger = {"id": {"table": 0, "type": "rp-export"}, "property": "n_clicks", "value": 1}
    body = {"output": "rp-download.data", "outputs": {"id": "rp-download", "property": "data"},
            "inputs": [[trigger]],
            "state": [{"id": "rp-params", "property": "data",
                       "value": {"from": DAY1, "to": DAY2}},
                      {"id": "rp-report", "property": "data", "value": report_id}],
            "changedPropIds": ['{"table":0,"type":"rp-export"}.n_clicks']}
    r = client.post("/_dash-update-component", json=body)
    if r.status_code != 200 or "rp-download" not in r.json().get("response", {}):
        return ""  # a report without a table answers no download
    data = r.json()["response"]["rp-download"]["data"]
    raw = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                       if n.endswith(".xml"))


def test_no_full_number_in_any_xlsx_export_without_the_right(client_for, live):
    numbers = _full_numbers(live)
    sup = client_for("sup")
    ids = [r["id"] for r in sup.get("/api/reports").json()["reports"]]
    bodies = {f"xlsx {rid}": _xlsx_text(sup, rid) for rid in ids}
    assert sum(1 for b in bodies.values() if b) >= len(ids) // 2  # the exports ran
    leaks = _leaks(bodies, numbers)
    assert not leaks, leaks[:10]


def _table_meta(node):
    """The first report table's metadata (its key and columns) in a page callback's answer."""
    if isinstance(node, dict):
        ident = node.get("id")
        if isinstance(ident, dict) and ident.get("type") == "rp-table-meta":
            return node["data"]
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _table_meta(child)
        if found:
            return found
    return None


def _callback_crawl(client) -> dict[str, str]:
    """What the pages' own callbacks send the browser: every report page the user may open
    (the generated report page's table and charts: aggregates, no number cells), the calls
    behind a cell (the drill-down's CSV), the missed-call queue's refresh and the journeys
    list."""
    from pbxlens.dashboards.pages import missed_common as mc
    from tests.dashboards.dashcall import dash_call, show_report

    out: dict[str, str] = {}
    for rid in [r["id"] for r in client.get("/api/reports").json()["reports"]]:
        out[f"page {rid}"] = show_report(client, rid, DAY1, DAY2, {}).text
    rid, meta = next((k.split()[1], m) for k, b in out.items()
                     if (m := _table_meta(json.loads(b))) and any(m["count"]))
    cell = {"report": rid, "params": {"from": DAY1, "to": DAY2}, "table": meta["key"],
            "row": None, "column": meta["columns"][meta["count"].index(True)], "title": "x"}
    r = dash_call(client, [("rp-drill-download", "data")],
                  [{"id": "rp-drill-csv", "property": "n_clicks", "value": 1},
                   {"id": "rp-drill-xlsx", "property": "n_clicks", "value": 0}],
                  [{"id": "rp-drill-cell", "property": "data", "value": cell}])
    data = r.json()["response"]["rp-drill-download"]["data"]
    out[f"drill {rid}"] = base64.b64decode(data["content"]).decode("utf-8")
    clicks = [{"id": i, "property": "n_clicks", "value": 0} for i in (
        "mc-search", "mc-tc-prev", "mc-tc-next", "mc-bk-prev", "mc-bk-next")]
    out["missed refresh"] = dash_call(
        client, [(i, p) for i, p in (("mc-to-call", "rowData"), ("mc-tc-info", "children"),
                                     ("mc-tc-page", "data"), ("mc-booked", "rowData"),
                                     ("mc-bk-info", "children"), ("mc-bk-page", "data"),
                                     ("mc-msg", "children"), ("mc-window", "children"),
                                     ("mc-window", "className"))],
        [{"id": "mc-tick", "property": "n_intervals", "value": 1}, clicks[0],
         {"id": "mc-sort", "property": "value", "value": "first_call"},
         {"id": "mc-desc", "property": "value", "value": "desc"}, *clicks[1:],
         {"id": "mc-to-call", "property": "cellClicked", "value": None},
         {"id": "mc-booked", "property": "cellClicked", "value": None}],
        [{"id": "mc-tc-page", "property": "data", "value": 0},
         {"id": "mc-bk-page", "property": "data", "value": 0},
         *[{"id": f"mc-f-{k}", "property": "value", "value": None} for k, _l, _t in mc.FILTERS]],
    ).text
    out["journeys"] = dash_call(
        client, [("jl-grid", "rowData"), ("jl-info", "children")],
        [{"id": "jl-apply", "property": "n_clicks", "value": 1}],
        [{"id": "jl-dates", "property": "start_date", "value": DAY1},
         {"id": "jl-dates", "property": "end_date", "value": DAY2},
         {"id": "jl-number", "property": "value", "value": ""},
         {"id": "jl-queue", "property": "value", "value": None},
         {"id": "jl-hours", "property": "value", "value": 24},
         {"id": "jl-flags", "property": "value", "value": []}]).text
    return out


@pytest.mark.parametrize("who", ["sup", "fin"])
def test_no_full_number_in_what_page_callbacks_send_without_the_right(client_for, live, who):
    numbers = _full_numbers(live)
    bodies = _callback_crawl(client_for(who))
    shown = [p for p, b in bodies.items() if '"response"' in b]
    assert len(shown) >= 10, sorted(bodies)[:5]  # the callbacks answered, not refused
    leaks = _leaks(bodies, numbers)
    assert not leaks, leaks[:10]


def test_the_callback_crawl_finds_numbers_when_the_right_is_held(client_for, live):
    leaks = _leaks(_callback_crawl(client_for("supfull")), _full_numbers(live))
    assert {p.split()[0] for p, _n in leaks} >= {"drill", "missed", "journeys"}
