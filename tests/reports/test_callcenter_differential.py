"""Every cc.* report against a naive recomputation from cc_cdr_detailed.csv (3 seeds)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, run
from pbxlens.simulate import generate
from pbxlens.store import analytics as db

from . import naive_cc as nv

SEEDS = (11, 22, 33)
START = date(2026, 5, 4)  # far from both DST changes
DAYS = 3


@dataclass
class CcStore:
    path: Path
    d_from: date
    d_to: date
    data: list
    directory: dict

    def con(self):
        return db.connect(self.path, read_only=True)


def _build(folder: Path, seed: int) -> CcStore:
    generate(folder, days=DAYS, calls_per_day=300, seed=seed, start=START,
             formats=["cc-csv-detailed"])
    path = folder / "store.duckdb"
    con = db.connect(path)
    res = ingest_paths(con, [folder / "cc_cdr_detailed.csv", folder / "directory.json"])
    assert all(r.error is None and not r.rows_quarantined for r in res), res
    con.close()
    # the last day's calls may end the day after: the range keeps the whole simulated span
    return CcStore(path, START, START + timedelta(days=DAYS), nv.read(folder /
                   "cc_cdr_detailed.csv"),
                   json.loads((folder / "directory.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def cc_stores(tmp_path_factory) -> list[CcStore]:
    return [_build(tmp_path_factory.mktemp(f"cc{s}"), s) for s in SEEDS]


@pytest.fixture(scope="session", params=range(len(SEEDS)), ids=[f"seed{s}" for s in SEEDS])
def cc(request, cc_stores) -> CcStore:
    return cc_stores[request.param]


def _p(s: CcStore, **filters) -> Params:
    return Params(date_from=s.d_from, date_to=s.d_to,
                  filters={k: [v] for k, v in filters.items()})


def _col(block: str) -> str:
    return block.lower().replace(" ", "_").replace("?", "unknown")


def _check_queue_row(row: dict, vs: list[dict], ctx) -> None:
    ans = [v for v in vs if v["ans"]]
    assert row["total.n"] == len(vs), ctx
    assert row["answered.n"] == len(ans), ctx
    assert row["unanswered.n"] == len(vs) - len(ans), ctx
    if ans:
        for k, f in (("avg_dur", "dur"), ("avg_talk", "talk"), ("avg_resp", "resp"),
                     ("avg_queuing", "queuing")):
            assert row[f"answered.{k}"] == sum(v[f] for v in ans) // len(ans), (ctx, k)
    by: dict = defaultdict(list)
    for v in vs:
        by[v["block"]].append(v)
    for b, bs in by.items():
        c = _col(b)
        assert row[f"{c}.n"] == len(bs), (ctx, b)
        if b in nv.ANSWERED:
            assert row[f"{c}.dur"] == sum(v["dur"] for v in bs), (ctx, b)
            assert row[f"{c}.talk"] == sum(v["talk"] for v in bs), (ctx, b)
        else:
            assert row[f"{c}.wait"] == sum(v["wait"] for v in bs), (ctx, b)
            assert row[f"{c}.avg_wait"] == sum(v["wait"] for v in bs) // len(bs), (ctx, b)


def test_queues(cc):
    r = run(cc.con(), "cc.queues", _p(cc))
    vs = nv.visits(cc.data, cc.d_from, cc.d_to)
    per: dict = defaultdict(list)
    for v in vs:
        per[v["qkey"]].append(v)
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == set(per)
    for row in t.rows:
        _check_queue_row(row, per[row["key"]], row["key"])
    _check_queue_row(t.totals, vs, "totals")
    n = len(vs)
    for key, f in (("avg_welcome", "welcome"), ("avg_queuing", "queuing"),
                   ("avg_queue_wait", "qwait"), ("avg_hold", "hold"), ("avg_tot", "tot")):
        assert t.summary[key] == sum(v[f] for v in vs) // n, key
    assert t.summary["talk"] == sum(v["talk"] for v in vs)
    assert {v["block"] for v in vs} >= {"NCC", "TRASFERIMENTO", "CANCELED NOWAIT"}
    wk = next(c for c in r.charts if c["id"] == "by_weekday")
    assert sum(wk["series"][0]["data"]) == n


def test_queues_by_date_and_hour(cc):
    vs = nv.visits(cc.data, cc.d_from, cc.d_to)
    con = cc.con()
    for rid, key in (("cc.queues_by_date", lambda v: v["day"].isoformat()),
                     ("cc.queues_by_hour", lambda v: str(v["hr"]))):
        res = run(con, rid, _p(cc))
        assert {t.key for t in res.tables} == {v["qkey"] for v in vs}
        for t in res.tables:
            cells: dict = defaultdict(list)
            for v in vs:
                if v["qkey"] == t.key:
                    cells[key(v)].append(v)
            for row in t.rows:
                if cells.get(row["key"]):
                    _check_queue_row(row, cells[row["key"]], (rid, t.key, row["key"]))
                else:
                    assert row["total.n"] == 0
            assert t.totals["total.n"] == sum(len(x) for x in cells.values())


def test_queue_filters(cc):
    con = cc.con()
    vs = nv.visits(cc.data, cc.d_from, cc.d_to)
    qk = sorted({v["qkey"] for v in vs})[0]
    t = run(con, "cc.queues", _p(cc, queue=qk)).tables[0]
    assert [row["key"] for row in t.rows] == [qk]
    t = run(con, "cc.queues", _p(cc, exit_cause="CANCELED_NOWAIT")).tables[0]
    assert t.totals["total.n"] == sum(v["block"] == "CANCELED NOWAIT" for v in vs)
    t = run(con, "cc.queues", _p(cc, status="OK")).tables[0]
    assert t.totals["total.n"] == sum(v["status"] == "OK" for v in vs)
    t = run(con, "cc.queues", _p(cc, direction="Ingresso")).tables[0]
    assert t.totals["total.n"] == sum(v["dir"] == "incoming" for v in vs)
    t = run(con, "cc.queues", _p(cc, direction="local")).tables[0]
    assert t.totals["total.n"] == sum(v["dir"] == "local" for v in vs)


def test_dashboard(cc):
    r = run(cc.con(), "cc.dashboard", _p(cc))
    vs = nv.visits(cc.data, cc.d_from, cc.d_to, empty=True)
    daily = r.tables[0]
    for row in daily.rows:
        d = date.fromisoformat(row["key"])
        for dr in ("incoming", "local"):
            dv = [v for v in vs if v["day"] == d and v["dir"] == dr]
            assert row[f"{dr}.n"] == len(dv)
            assert row[f"{dr}.served"] == sum(v["ans"] for v in dv)
            assert row[f"{dr}.dur"] == sum(v["tot"] for v in dv)
    assert daily.summary["incoming.n"] == sum(v["dir"] == "incoming" for v in vs)
    for t in r.tables[1:]:
        assert t.totals == {**daily.totals, "label": t.totals["label"]}
    pie = next(c for c in r.charts if c["id"] == "pie_served")
    assert pie["series"][0]["data"] == [sum(v["ans"] for v in vs),
                                        sum(not v["ans"] for v in vs)]


def test_queue_callers(cc):
    r = run(cc.con(), "cc.queue_callers", _p(cc))
    exp = nv.callers(cc.data, cc.d_from, cc.d_to)
    for row in r.tables[0].rows:
        a, u = exp.get(date.fromisoformat(row["key"]), [0, 0])
        assert (row["answered.n"], row["unanswered.n"]) == (a, u), row["key"]
    uids = {v["uid"] for v in nv.visits(cc.data, cc.d_from, cc.d_to) if v["dir"] == "incoming"}
    assert r.tables[0].totals["total.n"] == len(uids)
    vs = [v for v in nv.visits(cc.data, cc.d_from, cc.d_to) if v["dir"] == "incoming"]
    qk = sorted({v["qkey"] for v in vs})[0]
    r = run(cc.con(), "cc.queue_callers", _p(cc, queue=qk))
    assert r.tables[0].totals["total.n"] == len({v["uid"] for v in vs if v["qkey"] == qk})


def _check_leg_row(row: dict, ls: list[dict], ctx) -> None:
    assert row["total.n"] == len(ls), ctx
    ans = [x for x in ls if x["ans"]]
    assert row["answered.n"] == len(ans), ctx
    by: dict = defaultdict(list)
    for x in ls:
        by[x["block"]].append(x)
    for b, bs in by.items():
        c = _col(b)
        assert row[f"{c}.n"] == len(bs), (ctx, b)
        if f"{c}.avg_ring" in row:  # R3/R32 layout; R14/R34 unanswered blocks show worked
            assert row[f"{c}.avg_ring"] == sum(x["ring"] for x in bs) // len(bs), (ctx, b)
        if f"{c}.worked" in row:
            assert row[f"{c}.worked"] == sum(x["worked"] for x in bs), (ctx, b)
        if b in nv.ANSWERED:
            assert row[f"{c}.talk"] == sum(x["talk"] for x in bs), (ctx, b)
            assert row[f"{c}.avg_resp"] == sum(x["resp"] for x in bs) // len(bs), (ctx, b)


def test_operators(cc):
    r = run(cc.con(), "cc.operators", _p(cc))
    ls = nv.legs(cc.data, cc.d_from, cc.d_to)
    per: dict = defaultdict(list)
    for x in ls:
        per[x["op"]].append(x)
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == set(per)
    for row in t.rows:
        _check_leg_row(row, per[row["key"]], row["key"])
        assert row.get("answered_elsewhere.worked", 0) == 0  # C17: 0 for AE legs
    assert t.summary["tot"] == sum(x["worked"] for x in ls)
    qk = sorted({x["qkey"] for x in ls})[0]
    t = run(cc.con(), "cc.operators", _p(cc, queue=qk)).tables[0]
    assert t.totals["total.n"] == sum(x["qkey"] == qk for x in ls)


def test_queue_operators(cc):
    r = run(cc.con(), "cc.queue_operators", _p(cc))
    ls = nv.legs(cc.data, cc.d_from, cc.d_to)
    per: dict = defaultdict(list)
    for x in ls:
        per[(x["qkey"], x["op"], x["acc"])].append(x)
    seen = set()
    for t in r.tables:
        for row in t.rows:
            if row["level"] == 1:
                op, acc = row["key"].split("\x1f")
                seen.add((t.key, op, acc))
                _check_leg_row(row, per.get((t.key, op, acc), []), (t.key, op, acc))
    assert set(per) <= seen
    acc = next(iter(per))[2]
    r = run(cc.con(), "cc.queue_operators", _p(cc, account=acc))
    assert sum(t.totals["total.n"] for t in r.tables) == sum(x["acc"] == acc for x in ls)


CC_IDS = ("cc.dashboard", "cc.queues", "cc.queue_callers", "cc.queues_by_date",
          "cc.queue_operators", "cc.queues_by_hour", "cc.operators")


def test_exports_and_sql_transpile(cc_stores, tmp_path):
    import csv
    import io

    import openpyxl
    import sqlglot

    from pbxlens.reports import callcenter, export

    s = cc_stores[0]
    for rid in CC_IDS:
        res = run(s.con(), rid, Params(date_from=s.d_from, date_to=s.d_to, lang="it"))
        doc = json.loads(export.to_json(res))
        path = tmp_path / f"{rid}.xlsx"
        export.to_xlsx(res, path)
        wb = openpyxl.load_workbook(path)
        assert len(wb.worksheets) == max(1, len(doc["tables"])), rid
        assert next(iter(csv.reader(io.StringIO(export.to_csv(res)))))[0] in ("label", "table")
    p = _p(s, exit_cause="NCC", direction="incoming")
    for grouping in (callcenter.BY_QUEUE, callcenter.BY_QUEUE_DATE, callcenter.BY_QUEUE_HOUR):
        sql, _a = callcenter.queue_query(grouping, p, s.d_from, s.d_to)
        for dialect in ("spark", "clickhouse", "postgres"):
            assert sqlglot.transpile(sql, read="duckdb", write=dialect)
    for sql in (callcenter.LEG_SQL, callcenter.OP_SQL, callcenter.DASH_SQL,
                callcenter.CALLERS_SQL):
        sql = sql.format(where="", label_where="", keys="op", sets="(op, block)",
                         gid="GROUPING(op)", details="", hours="true")
        assert sqlglot.transpile(sql, read="duckdb", write="spark")
