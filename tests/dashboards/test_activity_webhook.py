"""Agent activity: the queue-member events sent to the real server's events webhook and the
same events loaded from the simulator's event-log file end in the same facts and report."""

from __future__ import annotations

import base64
import io
import json
from datetime import date
from pathlib import Path

import httpx
import openpyxl
import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, export, run
from pbxlens.simulate import generate
from pbxlens.store import analytics as db
from tests.dashboards.dashcall import export_table, report_content, show_report
from tests.dashboards.live import DAY1, DAY2

TOKEN = "ev-activity-token"
# Facts of the simulated days only: other tests post today's events to the shared live server
# (the live wallboard's, simulate-live's), which must not count here.
FACT_QUERIES = {
    "agent_intervals": "SELECT tenant, member, member_account, member_exten, qkey, queue_id,"
                       " queue_name, kind, reason, start_ts, end_ts FROM agent_intervals"
                       " WHERE start_ts < TIMESTAMPTZ '2026-06-01 00:00:00+00'",
    "agent_activity": "SELECT tenant, member, qkey, kind, reason, day, hr, secs, starts"
                      " FROM agent_activity WHERE day < DATE '2026-06-01'",
    "agent_talk": "SELECT tenant, unique_id, seq, extension, qkey, day, hr, secs, starts"
                  " FROM agent_talk WHERE day < DATE '2026-06-01'",
}


def _facts(cur) -> dict[str, list]:
    return {k: sorted(cur.execute(q).fetchall(), key=repr) for k, q in FACT_QUERIES.items()}


def _differences(hook: dict[str, list], file: dict[str, list]) -> str:
    """The rows only one side has, per table (what a failure needs to be understood)."""
    out = []
    for k in FACT_QUERIES:
        a, b = set(hook[k]), set(file[k])
        out += [f"{k}: webhook only {sorted(a - b, key=repr)[:20]}",
                f"{k}: file only {sorted(b - a, key=repr)[:20]}"]
    return "\n".join(out)


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    # the live server holds seed 11, 2026-05-11..12, 250 calls/day: the same CDR, plus events
    folder = tmp_path_factory.mktemp("act-live")
    generate(folder / "sim", days=2, calls_per_day=250, seed=11, start=date(2026, 5, 11),
             formats=["csv-detailed", "events"])
    return folder


def test_webhook_and_file_give_the_same_facts(live, sim, monkeypatch):
    monkeypatch.setenv("PBXLENS_WEBHOOK_TOKEN_EVENTS", TOKEN)
    tmp_path = sim
    lines = (tmp_path / "sim" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(x) for x in lines]
    with httpx.Client(base_url=live.base_url, timeout=60,
                      headers={"X-Pbxlens-Token": TOKEN}) as c:
        for i in range(0, len(events), 150):  # arrays, out of order within each batch
            r = c.post("/api/events", json=events[i:i + 150][::-1])
            assert r.status_code == 200, r.text
            assert r.json() == {"accepted": len(events[i:i + 150])}
        again = c.post("/api/events", json=events[:40])  # a resend: stored once
        assert again.json() == {"accepted": 40}
        one = c.post("/api/events", json=events[5])
        assert one.status_code == 200
        bad = c.post("/api/events", json={"event_name": "pbx.queuemember.pause",
                                          "event_timestamp": "1778490000", "params": {}})
        assert bad.status_code == 400 and "no member" in bad.json()["reason"]

    live.app.server.extensions["pbxlens_mover"].drain()  # in DuckDB, follow-ups run
    with live.store.cursor() as cur:
        keys = {str(e["event_id"]) for e in events}
        assert cur.execute("SELECT count(DISTINCT event_key) FROM pbx_events WHERE event_key"
                           f" IN ({', '.join('?' * len(keys))})", sorted(keys)).fetchone()[0] \
            == len(keys)
    path = tmp_path / "file.duckdb"
    con = db.connect(path)
    res = ingest_paths(con, [tmp_path / "sim"])
    assert not any(r.error or r.rows_quarantined for r in res), res
    file_facts = _facts(con)
    with live.store.cursor() as cur:
        hook_facts = _facts(cur)
    assert file_facts["agent_intervals"]
    assert any(r[7] == "paused" for r in file_facts["agent_intervals"])
    assert hook_facts == file_facts, _differences(hook_facts, file_facts)

    with httpx.Client(base_url=live.base_url, timeout=60,
                      headers={"Authorization": f"Bearer {live.tokens['admin']}"}) as c:
        api = c.get("/api/reports/cc.agent_activity", params={"from": DAY1, "to": DAY2}).json()
    lang = "it" if api["title"] != "Agent activity" else "en"
    mine = export.to_dict(run(con, "cc.agent_activity", Params(
        date_from=date.fromisoformat(DAY1), date_to=date.fromisoformat(DAY2), lang=lang,
        tenant="default")))
    con.close()
    assert [t["rows"] for t in api["tables"]] == [t["rows"] for t in mine["tables"]]
    assert api["tables"][0]["totals"]["logged.logged"] > 0
    assert api["tables"][0]["totals"]["talk.talk"] > 0


def _types(node, typ: str) -> list:
    if isinstance(node, dict):
        return ([node] if node.get("type") == typ else []) + [
            x for v in node.values() for x in _types(v, typ)]
    if isinstance(node, list):
        return [x for v in node for x in _types(v, typ)]
    return []


def test_pages_and_export(live, sim, client_for, monkeypatch):
    """The generic report page shows the activity grids and the feedback table with its pie;
    the XLSX export of the activity table is typed."""
    monkeypatch.setenv("PBXLENS_WEBHOOK_TOKEN_EVENTS", TOKEN)
    events = [json.loads(x) for x in
              (sim / "sim" / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    with httpx.Client(base_url=live.base_url, timeout=60,
                      headers={"X-Pbxlens-Token": TOKEN}) as c:  # idempotent
        for i in range(0, len(events), 500):  # the log holds call events too: under 1 MiB
            assert c.post("/api/events", json=events[i:i + 500]).status_code == 200
    live.app.server.extensions["pbxlens_mover"].drain()
    sup = client_for("sup")
    content = report_content(sup, "cc.agent_activity", DAY1, DAY2, {"queue": [], "operator": []})
    grids = _types(content, "AgGrid")
    assert len(grids) == 3 and all(g["props"]["rowData"] for g in grids)
    r = show_report(sup, "feedback.service", DAY1, DAY2, {"queue": [], "group": []})
    assert r.status_code == 200, r.text
    content = r.json()["response"]["rp-content"]["children"]
    assert len(_types(content, "AgGrid")[0]["props"]["rowData"]) == 6
    assert _types(content, "Graph")
    r = export_table(sup, "cc.agent_activity", {"from": DAY1, "to": DAY2, "filters": {},
                                                "lang": "en"}, table=0)
    data = r.json()["response"]["rp-download"]["data"]
    ws = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data["content"]))).worksheets[0]
    values = [v for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert any(isinstance(v, int | float) for v in values)
    assert any("·" in str(v) for v in values)
