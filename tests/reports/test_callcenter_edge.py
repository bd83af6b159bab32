"""Hand-made Call Center CDR edge cases: empty queue, transfers, answered elsewhere, midnight,
local calls, CANCELED NOWAIT, join-empty, timeouts, overflow, duplicate operator events."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, run
from pbxlens.simulate.writers.callcenter import EVENT_FIELDS, QUEUE_CALL_FIELDS
from pbxlens.store import analytics as db

from .conftest import DIRECTORY

D = "2026-05-04 "


def qc(uid, enter, exit_, cause, *, qid="800", name="Coda Test", answer="", welcome="",
       op="", acc="", direction="incoming", status="OK", events=()):
    vals = {"unique_id": uid, "direction": direction, "queue_id": qid, "queue_name": name,
            "caller": "3330001111", "caller_name": "", "called": "0200000000",
            "status": status, "enter_datetime": enter, "welcome_end_datetime": welcome,
            "enqueue_datetime": welcome, "answer_datetime": answer, "exit_datetime": exit_,
            "exit_cause": cause, "operator_exten": op, "operator_name": "",
            "operator_account": acc, "account_code": "", "work_code": ""}
    head = [vals[f] for f in QUEUE_CALL_FIELDS]
    return [head + list(e) for e in events] or [head + [""] * len(EVENT_FIELDS)]


def ev(op, ring, end, outcome, answer="", acc=None):
    return (op, "", acc or op, ring, answer, end, outcome)


def rows() -> list[list[str]]:
    r = []
    # 1. ringall: 301 answers on its app (agent hangs up), 302 answered elsewhere, 303 refuses;
    #    the AE event is exported twice (K-17113) and counts once
    r += qc("1.1", D + "10:00:00", D + "10:05:00", "NCC", answer=D + "10:00:30",
            welcome=D + "10:00:08", op="301", acc="301-app", events=[
                ev("301", D + "10:00:08", D + "10:05:00", "NCC-AGENT", D + "10:00:30",
                   "301-app"),
                ev("302", D + "10:00:08", D + "10:00:30", "ANSWERED_ELSEWHERE"),
                ev("302", D + "10:00:08", D + "10:00:30", "ANSWERED_ELSEWHERE"),
                ev("303", D + "10:00:08", D + "10:00:12", "REFUSED")])
    # 2. across midnight: enters 04/05 23:59:00, leaves 05/05 00:03:00 -> counted on 05/05
    r += qc("1.2", D + "23:59:00", "2026-05-05 00:03:00", "NCC", answer=D + "23:59:40",
            welcome=D + "23:59:10", op="302", acc="302", events=[
                ev("302", D + "23:59:10", "2026-05-05 00:03:00", "NCC-CALLER", D + "23:59:40")])
    # 3. transferred by the operator
    r += qc("1.3", D + "11:00:00", D + "11:02:00", "TRANSFER", answer=D + "11:00:20",
            welcome=D + "11:00:05", op="301", acc="301", events=[
                ev("301", D + "11:00:05", D + "11:02:00", "TRANSFER", D + "11:00:20")])
    # 4. empty (unnamed) queue, caller abandons
    r += qc("1.4", D + "12:00:00", D + "12:00:40", "CANCELED", qid="", name="",
            welcome=D + "12:00:05", status="CANCELED")
    # 5. join-empty, 6. hung up during the welcome message, 7. max-wait timeout
    r += qc("1.5", D + "13:00:00", D + "13:00:00", "QUEUE_JOINEMPTY", status="NOANSWER")
    r += qc("1.6", D + "13:10:00", D + "13:10:03", "CANCELED_NOWAIT", status="CANCELED")
    r += qc("1.7", D + "13:20:00", D + "13:25:00", "TIMEOUT", welcome=D + "13:20:06",
            status="NOANSWER", events=[ev("301", D + "13:20:06", D + "13:20:21", "TIMEOUT")])
    # 8. a local call (from extension 303) answered
    r += qc("1.8", D + "14:00:00", D + "14:01:00", "NCC", answer=D + "14:00:10",
            welcome=D + "14:00:04", op="302", acc="302", direction="local", events=[
                ev("302", D + "14:00:04", D + "14:01:00", "NCC-AGENT", D + "14:00:10")])
    # 9. overflow: timeout in 800, answered in 801 (one incoming call, two queue calls)
    r += qc("1.9", D + "15:00:00", D + "15:02:00", "TIMEOUT", welcome=D + "15:00:05",
            status="OK")
    r += qc("1.9", D + "15:02:01", D + "15:04:00", "NCC", qid="801", name="Overflow",
            answer=D + "15:02:30", welcome=D + "15:02:05", op="303", acc="303", events=[
                ev("303", D + "15:02:05", D + "15:04:00", "NCC-CALLER", D + "15:02:30")])
    return r


@pytest.fixture(scope="session")
def cc_edge(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cc_edge")
    p = folder / "cc_cdr_detailed.csv"
    p.write_text(",".join(QUEUE_CALL_FIELDS + EVENT_FIELDS) + "\n"
                 + "\n".join(",".join(x) for x in rows()) + "\n", encoding="utf-8")
    d = dict(DIRECTORY)
    d["queues"] = [*DIRECTORY["queues"], {"tenant": "default", "id": "801", "name": "Overflow",
                                          "strategy": "ringall", "max_wait_s": 120,
                                          "members": []}]
    (folder / "directory.json").write_text(json.dumps(d), encoding="utf-8")
    path = folder / "store.duckdb"
    con = db.connect(path)
    res = ingest_paths(con, [p, folder / "directory.json"])
    assert all(r.error is None and not r.rows_quarantined for r in res), res
    con.close()
    return path


def _run(path, rid, d_from="2026-05-04", d_to="2026-05-05", **filters):
    return run(db.connect(path, read_only=True), rid, Params(
        date_from=date.fromisoformat(d_from), date_to=date.fromisoformat(d_to),
        filters={k: [v] for k, v in filters.items()}))


def _row(table, key):
    return next(r for r in table.rows if r["key"] == key)


def test_queue_blocks_and_waits(cc_edge):
    t = _run(cc_edge, "cc.queues").tables[0]
    q = _row(t, "800")
    assert (q["total.n"], q["answered.n"], q["unanswered.n"]) == (8, 4, 4)
    assert (q["ncc.n"], q["trasferimento.n"], q["noanswer.n"], q["queue_joinempty.n"],
            q["canceled_nowait.n"]) == (3, 1, 2, 1, 1)
    assert q["canceled_nowait.wait"] == 3 and q["noanswer.wait"] == 300 + 120
    assert q["trasferimento.talk"] == 100 and q["trasferimento.avg_resp"] == 15
    assert [r["key"] for r in t.rows] == ["800", "801"]  # the empty queue is hidden
    t = _run(cc_edge, "cc.queues", empty_queue="yes").tables[0]
    assert _row(t, "")["label"] == "" and _row(t, "")["canceled.n"] == 1
    # header: welcome-message wait (C7) over all 10 visits
    welcome = 8 + 10 + 5 + 5 + 0 + 3 + 6 + 4 + 5 + 4
    assert t.summary["avg_welcome"] == welcome // 10


def test_midnight_goes_by_end_time(cc_edge):
    by_date = _run(cc_edge, "cc.queues_by_date", queue="800").tables[0]
    assert _row(by_date, "2026-05-05")["total.n"] == 1
    assert _row(by_date, "2026-05-04")["total.n"] == 7
    by_hour = _run(cc_edge, "cc.queues_by_hour", queue="800").tables[0]
    assert _row(by_hour, "0")["ncc.n"] == 1 and _row(by_hour, "23")["total.n"] == 0
    assert _run(cc_edge, "cc.queues", d_to="2026-05-04").tables[0].totals["total.n"] == 8


def test_direction_and_exit_cause_filters(cc_edge):
    t = _run(cc_edge, "cc.queues", direction="Locale").tables[0]
    assert t.totals["total.n"] == 1 and t.totals["ncc.n"] == 1
    t = _run(cc_edge, "cc.queues", exit_cause="TIMEOUT").tables[0]
    assert t.totals["total.n"] == 2  # the PBX code finds its NOANSWER block
    t = _run(cc_edge, "cc.queues", exit_cause="QUEUE_JOINEMPTY").tables[0]
    assert t.totals["total.n"] == 1


def test_operators_answered_elsewhere_and_transfer(cc_edge):
    t = _run(cc_edge, "cc.operators").tables[0]
    o302 = _row(t, "302")
    assert o302["answered_elsewhere.n"] == 1  # the duplicated event counts once
    assert o302["answered_elsewhere.worked"] == 0
    assert o302["answered.n"] == 2 and o302["ncc-caller.n"] == 1
    o301 = _row(t, "301")
    assert (o301["ncc-agent.n"], o301["transfer.n"], o301["timeout.n"]) == (1, 1, 1)
    assert o301["transfer.talk"] == 100 and o301["ncc-agent.avg_resp"] == 30
    assert _row(t, "303")["refused.n"] == 1
    r3 = _run(cc_edge, "cc.queue_operators")
    t800 = next(x for x in r3.tables if x.key == "800")
    assert _row(t800, "301\x1f301-app")["ncc-agent.n"] == 1
    assert _row(t800, "301\x1f301-dect")["total.n"] == 0  # accounts listed without data
    assert _row(t800, "301")["total.n"] == 3  # operator = sum of its accounts


def test_callers_and_dashboard(cc_edge):
    t = _run(cc_edge, "cc.queue_callers").tables[0]
    # incoming calls counted once: 1.1, 1.3, 1.5, 1.6, 1.7, 1.9 on 04/05 (1.4: empty queue,
    # 1.8: local), 1.2 on 05/05; 1.9 answered after the overflow
    assert (_row(t, "2026-05-04")["answered.n"], _row(t, "2026-05-04")["unanswered.n"]) == (3, 3)
    assert _row(t, "2026-05-05")["answered.n"] == 1
    d = _run(cc_edge, "cc.dashboard")
    assert d.tables[0].summary["local.n"] == 1 and d.tables[0].summary["incoming.n"] == 9
    day = _row(d.tables[0], "2026-05-04")
    assert (day["incoming.n"], day["incoming.served"], day["local.served"]) == (8, 3, 1)
    pie = next(c for c in d.charts if c["id"] == "pie_exit")
    assert dict(zip(pie["codes"], pie["series"][0]["data"], strict=True))["CANCELED NOWAIT"] == 1
