"""Agent activity: the queue-member events sent to the real server's events webhook and the
same events loaded from the simulator's event-log file end in the same facts and report."""

from __future__ import annotations

import json
from datetime import date

import httpx

from pbxlens import db
from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, export, run
from pbxlens.simulate import generate
from tests.dashboards.live import DAY1, DAY2

TOKEN = "ev-activity-token"
FACT_QUERIES = {
    "agent_intervals": "SELECT tenant, member, member_account, member_exten, qkey, queue_id,"
                       " queue_name, kind, reason, start_ts, end_ts FROM agent_intervals",
    "agent_activity": "SELECT tenant, member, qkey, kind, reason, day, hr, secs, starts"
                      " FROM agent_activity",
    "agent_talk": "SELECT tenant, unique_id, seq, extension, qkey, day, hr, secs, starts"
                  " FROM agent_talk",
}


def _facts(cur) -> dict[str, list]:
    return {k: sorted(cur.execute(q).fetchall(), key=repr) for k, q in FACT_QUERIES.items()}


def test_webhook_and_file_give_the_same_facts(live, tmp_path, monkeypatch):
    monkeypatch.setenv("PBXLENS_WEBHOOK_TOKEN_EVENTS", TOKEN)
    # the live server holds seed 11, 2026-05-11..12, 250 calls/day: the same CDR, plus events
    generate(tmp_path / "sim", days=2, calls_per_day=250, seed=11, start=date(2026, 5, 11),
             formats=["csv-detailed", "events"])
    lines = (tmp_path / "sim" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(x) for x in lines]
    with httpx.Client(base_url=live.base_url, timeout=60,
                      headers={"X-Pbxlens-Token": TOKEN}) as c:
        for i in range(0, len(events), 150):  # arrays, out of order within each batch
            r = c.post("/api/events", json=events[i:i + 150][::-1])
            assert r.status_code == 200, r.text
            assert r.json()["stored"] == len(events[i:i + 150])
        again = c.post("/api/events", json=events[:40])  # a resend: stored once
        assert again.json() == {"stored": 0, "duplicates": 40,
                                "batch_id": again.json()["batch_id"]}
        one = c.post("/api/events", json=events[5])
        assert one.json()["duplicates"] == 1
        bad = c.post("/api/events", json={"event_name": "pbx.queuemember.pause",
                                          "event_timestamp": "1778490000", "params": {}})
        assert bad.status_code == 400 and "no member" in bad.json()["reason"]

    path = tmp_path / "file.duckdb"
    con = db.connect(path)
    res = ingest_paths(con, [tmp_path / "sim"])
    assert not any(r.error or r.rows_quarantined for r in res), res
    file_facts = _facts(con)
    with live.store.cursor() as cur:
        hook_facts = _facts(cur)
    assert file_facts["agent_intervals"]
    assert any(r[7] == "paused" for r in file_facts["agent_intervals"])
    assert hook_facts == file_facts

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
