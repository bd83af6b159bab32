"""The simulator's truth tables, a second oracle independent of the reports' SQL, agree with the
queue reports (`cdr.queues*`), the Call Center reports (`cc.*`) and the missed-call reports
(`missed.*`) on three seeds, after ingesting the generated CDR, Call Center CDR and directory
into a real DuckDB file.

Where a report's definition differs from the truth, the mapping is stated here:

- grain: every report and the truth count a call once per queue VISIT (an overflow 700 -> 704
  is a visit of each queue; the truth's `overflowed` marks the first);
- placement: `cdr.queues*` place a visit on its call's start day (truth basis `start`),
  `cc.*` on the day the visit left the queue (basis `exit`, C22);
- exit causes: the CDR writes CANCELED for every abandon (the Call Center CDR splits
  CANCELED_NOWAIT, the truth `abandoned_welcome`), NOANSWER for a queue timeout (truth
  `timeout`; the Call Center's TIMEOUT, read as the NOANSWER block), ATXFER for an attended
  transfer and NCC for a blind one (the Call Center's TRANSFER = truth `transferred`, which also
  counts transfers to another queue); an agent's campaign call that did not reach the customer
  keeps the line's outcome (BUSY, UNAVAILABLE ... = truth `other_unanswered`);
- missed calls: a request is what nexus_modules.md A.9 makes of a caller's missed calls; the
  truth's ledger applies those rules to the calls it simulated, and the team's own record of
  its callbacks (`truth_callbacks.tsv`, "customer_answered") is ground truth that the A.9 rule
  sees differently where a callback's bill_secs is 5 s or less, or where an automatic queue
  callback rang an operator who answered but not the customer (status OK, bill > 5 s: A.9
  counts it a successful callback);
- `missed.caller_queue` counts the visits of incoming calls (truth direction `incoming`).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, run
from pbxlens.simulate import generate
from pbxlens.simulate.truth_tables import QUEUE_DAY_FIELDS
from pbxlens.store import analytics as db

SEEDS = (11, 22, 33)
START = date(2026, 5, 4)  # a Monday, far from both DST changes
DAYS = 4
LAST = START + timedelta(days=DAYS - 1)


@dataclass
class Sim:
    folder: Path
    store: Path

    def con(self):
        return db.connect(self.store, read_only=True)

    def truth(self, name: str) -> list[dict]:
        with open(self.folder / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def sim(request, tmp_path_factory) -> Sim:
    folder = tmp_path_factory.mktemp(f"truth{request.param}")
    generate(folder, days=DAYS, calls_per_day=500, seed=request.param, start=START,
             formats=["csv-detailed", "cc-csv-detailed"])
    store = folder / "store.duckdb"
    con = db.connect(store)
    res = ingest_paths(con, [folder / "cdr_detailed.csv", folder / "cc_cdr_detailed.csv",
                             folder / "directory.json"])
    assert all(r.error is None and not r.rows_quarantined for r in res), res
    con.close()
    return Sim(folder, store)


def _p(d_from: date, d_to: date, **filters) -> Params:
    return Params(date_from=d_from, date_to=d_to, today=LAST,
                  filters={k: [v] for k, v in filters.items()})


def _queue_days(s: Sim, basis: str) -> list[dict]:
    counts = QUEUE_DAY_FIELDS[QUEUE_DAY_FIELDS.index("offered"):]
    return [{k: (int(v) if k in counts else v) for k, v in r.items()}
            for r in s.truth("truth_queue_days.tsv") if r["basis"] == basis]


def _sum(rows: list[dict], key=lambda r: r["queue_id"]) -> dict:
    out: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        acc = out[key(r)]
        for k, v in r.items():
            if isinstance(v, int):
                acc[k] += v
    return out


def _blocks(row: dict, *blocks: str, field: str = "n") -> int:
    return sum(row.get(f"{b}.{field}") or 0 for b in blocks)


_OTHER_CDR = ("busy", "unavailable", "congestion", "blocked")
_OTHER_CC = ("busy", "unavailable", "congestion", "blocked")


# ------------------------------------------------------------------------ CDR queue reports
def test_cdr_queues(sim):
    truth = _sum(_queue_days(sim, "start"))
    t = run(sim.con(), "cdr.queues", _p(START, LAST)).tables[0]
    assert {row["key"] for row in t.rows} == set(truth)
    for row in t.rows:
        x = truth[row["key"]]
        ctx = row["key"]
        assert row["total.n"] == x["offered"], ctx
        assert row["answered.n"] == x["answered"], ctx
        assert _blocks(row, "ncc", "trasferimento", field="talk") == x["talk_s"], ctx
        assert row["unanswered.n"] == x["offered"] - x["answered"], ctx
        assert _blocks(row, "canceled") == x["abandoned"], ctx
        assert _blocks(row, "noanswer") == x["timeout"], ctx
        for block, col in (("queue_joinempty", "joinempty"), ("full", "full"),
                           ("leaveempty", "leaveempty"), ("closed", "closed")):
            assert _blocks(row, block) == x[col], (ctx, block)
        assert _blocks(row, "queue_callback", "ccbs") == x["callback_requested"], ctx
        assert _blocks(row, *_OTHER_CDR) == x["other_unanswered"], ctx
        unanswered = ("canceled", "noanswer", "queue_joinempty", "full", "leaveempty",
                      "closed", "queue_callback", "ccbs", *_OTHER_CDR)
        assert _blocks(row, *unanswered, field="wait") == x["wait_s"], ctx


def test_cdr_queues_by_date(sim):
    truth = _sum(_queue_days(sim, "start"), key=lambda r: (r["queue_id"], r["day"]))
    res = run(sim.con(), "cdr.queues_by_date", _p(START, LAST))
    seen = 0
    for t in res.tables:
        for row in t.rows:
            x = truth.get((t.key, row["key"]))
            if x is None:
                assert not row.get("total.n"), (t.key, row["key"])
                continue
            seen += 1
            assert (row["total.n"], row["answered.n"]) == (x["offered"], x["answered"])
            assert _blocks(row, "ncc", "trasferimento", field="talk") == x["talk_s"]
    assert seen == len(truth)


# ------------------------------------------------------------------------ Call Center reports
def test_cc_queues(sim):
    truth = _sum(_queue_days(sim, "exit"))
    t = run(sim.con(), "cc.queues", _p(START, LAST + timedelta(days=1))).tables[0]
    assert {row["key"] for row in t.rows} == set(truth)
    for row in t.rows:
        x = truth[row["key"]]
        ctx = row["key"]
        assert row["total.n"] == x["offered"], ctx
        assert row["answered.n"] == x["answered"], ctx
        assert _blocks(row, "trasferimento") == x["transferred"], ctx
        assert _blocks(row, "ncc") == x["answered"] - x["transferred"], ctx
        assert _blocks(row, "ncc", "trasferimento", field="talk") == x["talk_s"], ctx
        assert _blocks(row, "canceled_nowait") == x["abandoned_welcome"], ctx
        assert _blocks(row, "canceled") == x["abandoned"] - x["abandoned_welcome"], ctx
        assert _blocks(row, "noanswer") == x["timeout"], ctx
        for block, col in (("queue_joinempty", "joinempty"), ("full", "full"),
                           ("leaveempty", "leaveempty"), ("closed", "closed")):
            assert _blocks(row, block) == x[col], (ctx, block)
        assert _blocks(row, "queue_callback", "ccbs") == x["callback_requested"], ctx
        assert _blocks(row, *_OTHER_CC) == x["other_unanswered"], ctx


def test_cc_queues_by_date_and_dashboard(sim):
    rows = _queue_days(sim, "exit")
    truth = _sum(rows, key=lambda r: (r["queue_id"], r["day"]))
    con = sim.con()
    p = _p(START, LAST + timedelta(days=1))
    for t in run(con, "cc.queues_by_date", p).tables:
        for row in t.rows:
            x = truth.get((t.key, row["key"]), {})
            assert (row.get("total.n") or 0, row.get("answered.n") or 0) == (
                x.get("offered", 0), x.get("answered", 0)), (t.key, row["key"])
    by_dir = _sum(rows, key=lambda r: (r["day"], r["direction"]))
    daily = run(con, "cc.dashboard", p).tables[0]
    for row in daily.rows:
        for direction in ("incoming", "local"):
            x = by_dir.get((row["key"], direction), {})
            assert (row.get(f"{direction}.n") or 0) == x.get("offered", 0), row["key"]
            assert (row.get(f"{direction}.served") or 0) == x.get("answered", 0), row["key"]


# ------------------------------------------------------------------------ missed calls
_TS = "%Y-%m-%d %H:%M:%S"


def _at(s: str) -> datetime | None:
    return datetime.strptime(s, _TS) if s else None


def _category(r: dict, t: datetime) -> str:
    """The A.7 category of a request at local instant t (missed.dashboard's definition)."""
    closed = _at(r["closed_at"])
    if closed is not None and closed < t:
        return r["closure"]
    fail = _at(r["first_recalled"])
    if fail is not None and fail < t:
        return "unanswered_callbacks"
    return "not_managed"


def _eod(d: str) -> datetime:
    return datetime.strptime(d, "%Y-%m-%d") + timedelta(days=1)


def test_missed_requests_are_the_ledger(sim):
    """The reconciled requests are exactly the truth's, field by field."""
    con = sim.con()
    got = {r[0]: r[1:] for r in con.execute("""
        SELECT request_key, call_num, strftime(first_call, '%Y-%m-%d %H:%M:%S'),
          strftime(last_call, '%Y-%m-%d %H:%M:%S'), num_calls, queue, coalesce(closure, ''),
          coalesce(strftime(closed_at, '%Y-%m-%d %H:%M:%S'), ''), coalesce(closed_by, ''),
          num_recalled, coalesce(strftime(last_recalled, '%Y-%m-%d %H:%M:%S'), ''),
          coalesce(CAST(recall_s AS TEXT), '')
        FROM missed_requests""").fetchall()}
    exp = {r["request_key"]: (r["call_num"], r["first_call"], r["last_call"],
                              int(r["num_calls"]), r["queue"], r["closure"], r["closed_at"],
                              r["closed_by"], int(r["num_recalled"]), r["last_recalled"],
                              r["recall_s"])
           for r in sim.truth("truth_missed.tsv")}
    assert len(exp) > 20
    assert got == exp
    closures = {r[5] for r in exp.values()}
    assert {"handled_with_callback", "served_inbound", ""} <= closures


def test_missed_dashboard(sim):
    reqs = sim.truth("truth_missed.tsv")
    now = _eod(LAST.isoformat())
    r = run(sim.con(), "missed.dashboard", _p(START, LAST))
    total = r.tables[0].rows[0]
    cats = defaultdict(int)
    for q in reqs:
        cats[_category(q, now)] += 1
    assert total["total"] == len(reqs)
    for c in ("served_inbound", "handled_with_callback", "unanswered_callbacks", "not_managed"):
        assert (total.get(f"{c}.n") or 0) == cats[c], c
    by_day: dict = defaultdict(lambda: defaultdict(int))
    for q in reqs:
        d = q["first_call"][:10]
        by_day[d]["total"] += 1
        by_day[d][_category(q, min(_eod(d), now))] += 1
    for row in r.tables[1].rows:
        x = by_day.get(row["key"], {})
        assert (row.get("total") or 0) == x.get("total", 0), row["key"]
        for c in ("served_inbound", "handled_with_callback", "unanswered_callbacks",
                  "not_managed"):
            assert (row.get(f"{c}.n") or 0) == x.get(c, 0), (row["key"], c)


def test_missed_history_and_today(sim):
    reqs = {q["request_key"]: q for q in sim.truth("truth_missed.tsv")}
    calls = sim.truth("truth_missed_calls.tsv")
    con = sim.con()
    hist = run(con, "missed.history", _p(START, LAST)).tables[0]
    today = run(con, "missed.today", _p(START, LAST)).tables[0]
    per: dict = defaultdict(lambda: {"calls": 0, "nums": defaultdict(list)})
    for c in calls:
        x = per[c["start"][:10]]
        x["calls"] += 1
        x["nums"][c["call_num"]].append(reqs[c["request_key"]])
    recalls: dict = defaultdict(list)
    for q in reqs.values():
        if q["recall_s"]:
            recalls[q["first_call"][:10]].append(int(q["recall_s"]))
    for row in hist.rows:
        x = per.get(row["key"], {"calls": 0, "nums": {}})
        assert (row.get("calls") or 0) == x["calls"], row["key"]
        assert (row.get("customers.n") or 0) == len(x["nums"]), row["key"]
        closed = sum(all(q["closure"] for q in qs) for qs in x["nums"].values())
        assert (row.get("customers.called") or 0) == closed, row["key"]
        rs = recalls.get(row["key"], [])
        assert (row.get("recall.recalls") or 0) == len(rs), row["key"]
        if rs:
            assert (row["recall.min"], row["recall.max"]) == (min(rs), max(rs)), row["key"]
    for row in today.rows:
        d = row["key"]
        t = _eod(d)
        x = per.get(d, {"calls": 0, "nums": {}})
        assert (row.get("today.calls") or 0) == x["calls"], d
        assert (row.get("today.customers") or 0) == len(x["nums"]), d
        mine = [q for q in reqs.values() if q["first_call"][:10] == d]
        assert (row.get("today.inquiries") or 0) == len(mine), d

        def open_at(q: dict) -> bool:
            return not q["closed_at"] or _at(q["closed_at"]) >= t  # noqa: B023

        assert (row.get("today.to_manage") or 0) == sum(open_at(q) for q in mine), d
        backlog = [q for q in reqs.values() if q["first_call"][:10] < d and open_at(q)]
        assert (row.get("backlog.bl_requests") or 0) == len(backlog), d


def test_missed_caller_queue(sim):
    """Answered and unanswered calls per queue and day: the incoming visits of the truth
    (basis `start`), by queue name."""
    rows = [r for r in _queue_days(sim, "start") if r["direction"] == "incoming"]
    truth = _sum(rows, key=lambda r: (r["queue_name"], r["day"]))
    res = run(sim.con(), "missed.caller_queue", _p(START, LAST))
    names = {t.title for t in res.tables}
    assert names == {r["queue_name"] for r in rows}
    for t in res.tables:
        for row in t.rows:
            x = truth.get((t.title, row["key"]), {})
            assert (row.get("calls.tel_ans") or 0) == x.get("answered", 0), (t.title, row["key"])
            assert (row.get("calls.tel_unans") or 0) == (
                x.get("offered", 0) - x.get("answered", 0)), (t.title, row["key"])


def test_callbacks_are_outbound_calls_the_reconciliation_sees(sim):
    """Every callback of the team is an outbound CDR call to the missed number; the ones the
    reconciliation attached to the request carry the same success as the truth says."""
    con = sim.con()
    cbs = sim.truth("truth_callbacks.tsv")
    assert cbs
    got = dict(con.execute("SELECT unique_id, direction FROM calls").fetchall())
    assert all(got[c["unique_id"]] == "outgoing" for c in cbs)
    att = {(r[0], r[1]): r[2] for r in con.execute(
        "SELECT request_key, unique_id, success FROM missed_attempts").fetchall()}
    n = 0
    for c in cbs:
        if c["success"] != "":
            assert att[(c["request_key"], c["unique_id"])] == (c["success"] == "1")
            n += 1
    assert n > 0
