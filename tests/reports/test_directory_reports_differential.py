"""The directory reports (R6-R8, R11-R13, R16, R17, R21-R24) against a naive pure-Python
recomputation from cdr_detailed.csv and directory.json (3 seeds, the `stores` of conftest)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from pbxlens.reports import Params, run

from . import naive_directory_reports as nv


def _params(store, **filters):
    return Params(date_from=store.d_from, date_to=store.d_to,
                  filters={k: [v] for k, v in filters.items()})


def _col(block: str) -> str:
    return block.lower().replace(" ", "_").replace("?", "unknown")


def _avg(xs: list[dict], f: str):
    return sum(x[f] for x in xs) // len(xs) if xs else None


def _ops(store) -> set[str]:
    return {o["extension"] for o in store.directory["operators"]}


# ----------------------------------------------------------------------------- billing codes

def _bill(store):
    return nv.billing_calls(store.calls, store.d_from, store.d_to, store.accounts, _ops(store))


def _check_leg_cells(row: dict, items: list[dict], ctx) -> None:
    """R7/R8 cells: partitions by exit-cause block (worked = duration)."""
    ans = [x for x in items if nv.is_answered(x["block"])]
    assert row["total.n"] == len(items), ctx
    assert row["answered.n"] == len(ans), ctx
    assert row["unanswered.n"] == len(items) - len(ans), ctx
    assert row["answered.avg_worked"] == _avg(ans, "dur"), ctx
    assert row["answered.avg_talk"] == _avg(ans, "talk"), ctx
    assert row["answered.avg_wait"] == _avg(ans, "wait"), ctx
    by: dict = defaultdict(list)
    for x in items:
        by[x["block"]].append(x)
    for b, xs in by.items():
        c = _col(b)
        assert row[f"{c}.n"] == len(xs), (ctx, b)
        assert row[f"{c}.worked"] == sum(x["dur"] for x in xs), (ctx, b)
        if nv.is_answered(b):
            assert row[f"{c}.talk"] == sum(x["talk"] for x in xs), (ctx, b)
            assert row[f"{c}.avg_wait"] == _avg(xs, "wait"), (ctx, b)


def test_billing_codes(store):
    calls = _bill(store)
    assert calls, "the simulator tags outgoing campaign calls with billing codes"
    r = run(store.con(), "cdr.billing_codes", _params(store))
    t = r.tables[0]
    per: dict = defaultdict(list)
    for x in calls:
        per[x["code"]].append(x)
    assert [row["key"] for row in t.rows] == sorted(per, key=lambda c: (len(c), c))
    for row in [*t.rows, t.totals]:
        xs = per[row["key"]] if "key" in row else calls
        ok = [x for x in xs if x["status"] == "OK"]
        assert row["total.n"] == len(xs)
        assert row["total.dur"] == sum(x["dur"] for x in xs)
        assert row["total.bill"] == sum(x["bill"] for x in xs)
        assert row["ok.n"] == len(ok)
        if ok:
            assert row["ok.talk"] == sum(x["talk"] for x in ok)
            assert row["ok.avg_bill"] == _avg(ok, "bill")
            assert row["ok.avg_wait"] == _avg(ok, "wait")
            assert row["ok.avg_dur"] == _avg(ok, "dur")
        for st in {x["status"] for x in xs} - {"OK"}:
            assert row[f"{_col(st)}.n"] == sum(1 for x in xs if x["status"] == st)
    # header strip divides by the table quantity (C2)
    assert t.summary["n"] == len(calls)
    assert t.summary["avg_wait"] == sum(x["wait"] for x in calls) // len(calls)
    assert t.summary["talk"] == sum(x["talk"] for x in calls)
    wk = next(c for c in r.charts if c["id"] == "by_weekday")
    assert sum(wk["series"][0]["data"]) == len(calls)
    assert sum(wk["series"][1]["data"]) == sum(1 for x in calls if x["status"] == "OK")
    hr = next(c for c in r.charts if c["id"] == "by_hour")
    assert sum(sum(s["data"]) for s in hr["series"]) == len(calls)


def test_billing_codes_by_date(store):
    calls = _bill(store)
    r = run(store.con(), "cdr.billing_codes_by_date", _params(store))
    assert {t.key for t in r.tables} == {x["code"] for x in calls}
    for t in r.tables:
        assert len(t.rows) == (store.d_to - store.d_from).days + 1
        mine = [x for x in calls if x["code"] == t.key]
        for row in t.rows:
            items = [x for x in mine if x["day"].isoformat() == row["key"]]
            if items:
                _check_leg_cells(row, items, (t.key, row["key"]))
            else:
                assert row["total.n"] == 0
        _check_leg_cells(t.totals, mine, (t.key, "totals"))
        assert t.summary["avg_worked"] == sum(x["dur"] for x in mine) // len(mine)


def test_billing_codes_operators(store):
    calls = [x for x in _bill(store) if x["op"] is not None]
    r = run(store.con(), "cdr.billing_codes_operators", _params(store))
    seen = set()
    for t in r.tables:
        mine = [x for x in calls if x["code"] == t.key]
        for row in t.rows:
            if row["level"] == 0:
                items = [x for x in mine if x["op"] == row["key"]]
                assert row["total.n"] == len(items)
                continue
            op, acc = row["key"].split("\x1f")
            items = [x for x in mine if (x["op"], x["acc"]) == (op, acc)]
            seen.add((t.key, op, acc))
            if items:
                _check_leg_cells(row, items, (t.key, op, acc))
            else:
                assert row["total.n"] == 0
    assert {(x["code"], x["op"], x["acc"]) for x in calls} <= seen


def test_billing_code_filters(store):
    calls = _bill(store)
    code = sorted({x["code"] for x in calls})[0]
    con = store.con()
    r = run(con, "cdr.billing_codes", _params(store, billing_code=code))
    assert [row["key"] for row in r.tables[0].rows] == [code]
    r = run(con, "cdr.billing_codes_by_date", _params(store, exit_cause="NCC"))
    assert sum(t.totals["total.n"] for t in r.tables) == sum(
        1 for x in calls if x["block"] == "NCC")
    r = run(con, "cdr.billing_codes", _params(store, status="OK"))
    assert r.tables[0].totals["total.n"] == sum(1 for x in calls if x["status"] == "OK")


# ----------------------------------------------------------------------------- groups

def _check_group(row: dict, vs: list[dict], ctx) -> None:
    ans = [v for v in vs if v["answered"]]
    assert row["total.n"] == len(vs), ctx
    assert row["answered.n"] == len(ans), ctx
    assert row["unanswered.n"] == len(vs) - len(ans), ctx
    assert row["answered.talk"] == sum(v["talk"] for v in ans), ctx
    assert row["answered.avg_talk"] == _avg(ans, "talk"), ctx
    assert row["cfwd"] == sum(v["cfwd"] for v in vs), ctx
    assert row["ufwd"] == sum(v["ufwd"] for v in vs), ctx
    assert row["fork2mobile"] == sum(v["fork"] for v in vs), ctx


def test_groups(store):
    vs = nv.group_visits(store.calls, store.d_from, store.d_to)
    assert vs
    con = store.con()
    r = run(con, "cdr.groups", _params(store))
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == {v["gkey"] for v in vs}
    for row in t.rows:
        _check_group(row, [v for v in vs if v["gkey"] == row["key"]], row["key"])
    _check_group(t.totals, vs, "totals")
    assert t.summary == {}  # no header strip (R11)
    pie = next(c for c in r.charts if c["id"] == "answered_pie")
    assert pie["series"][0]["data"] == [t.totals["answered.n"], t.totals["unanswered.n"]]
    by_date = run(con, "cdr.groups_by_date", _params(store))
    by_hour = run(con, "cdr.groups_by_hour", _params(store))
    overall = {row["key"]: row for row in t.rows}
    for res, key in ((by_date, lambda v: v["day"].isoformat()), (by_hour, lambda v: str(v["hr"]))):
        assert {x.key for x in res.tables} == set(overall)
        for tb in res.tables:
            mine = [v for v in vs if v["gkey"] == tb.key]
            for row in tb.rows:
                cell = [v for v in mine if key(v) == row["key"]]
                _check_group(row, cell, (res.report, tb.key, row["key"]))
            # C21: the rows of the by-date / by-hour table sum to the group's overall row
            assert {k: v for k, v in tb.totals.items() if k not in ("label", "level")} == {
                k: v for k, v in overall[tb.key].items() if k not in ("label", "level", "key")}
    assert all(len(tb.rows) == 24 for tb in by_hour.tables)


def test_group_filter(store):
    vs = nv.group_visits(store.calls, store.d_from, store.d_to)
    g = sorted({v["gkey"] for v in vs})[0]
    r = run(store.con(), "cdr.groups", _params(store, group=g))
    assert [row["key"] for row in r.tables[0].rows] == [g]


# ----------------------------------------------------------------------------- organizations

@pytest.mark.parametrize("rid,unit", [("cdr.organizations", "organization"),
                                      ("cdr.org_units", "org_unit")])
def test_units(store, rid, unit):
    legs = nv.unit_legs(store.calls, store.d_from, store.d_to, store.directory, unit)
    r = run(store.con(), rid, _params(store))
    t = r.tables[0]
    per: dict = defaultdict(list)
    for u, _op, _a, b, f in legs:
        per[u].append((b, f))
    assert {row["key"] for row in t.rows} == set(per)
    for row in [*t.rows, t.totals]:
        ls = per[row["key"]] if "key" in row else [(b, f) for *_x, b, f in legs]
        ans = [f for b, f in ls if nv.is_answered(b)]
        assert row["total.n"] == len(ls)
        assert row["answered.n"] == len(ans)
        assert row["answered.avg_worked"] == _avg(ans, "worked")
        assert row["answered.avg_wait"] == _avg(ans, "resp")
        by_b: dict = defaultdict(list)
        for b, f in ls:
            by_b[b].append(f)
        for b, fs in by_b.items():
            c = _col(b)
            assert row[f"{c}.n"] == len(fs), (row.get("key"), b)
            assert row[f"{c}.worked"] == sum(f["worked"] for f in fs), (row.get("key"), b)
            if nv.is_answered(b):
                assert row[f"{c}.talk"] == sum(f["talk"] for f in fs)
                assert row[f"{c}.avg_ring"] == _avg(fs, "ring")
    # §3.1 #7: header tempo lavorato = Σ worked of every block; talk = Σ answered talk
    assert t.summary["tot"] == sum(f["worked"] for *_x, f in legs)
    assert t.summary["talk"] == sum(f["talk"] for *_x, b, f in legs if nv.is_answered(b))
    # the units partition the legs of operators that have one
    wk = next(c for c in r.charts if c["id"] == "by_weekday")
    assert sum(wk["series"][0]["data"]) == len(legs)


@pytest.mark.parametrize("rid,unit", [("cdr.organizations_operators", "organization"),
                                      ("cdr.org_units_operators", "org_unit")])
def test_units_operators(store, rid, unit):
    legs = nv.unit_legs(store.calls, store.d_from, store.d_to, store.directory, unit)
    r = run(store.con(), rid, _params(store))
    per: dict = defaultdict(list)
    for u, op, acc, b, f in legs:
        per[(u, op, acc)].append((b, f))
    seen = set()
    for t in r.tables:
        parent = None
        acc_sum: dict = defaultdict(int)
        for row in [*t.rows, {"level": 0}]:
            if row["level"] == 0:
                if parent is not None:  # §0.5 rule 8: operator = Σ accounts
                    for k in ("total.n", "answered.n", "unanswered.n"):
                        assert parent[k] == acc_sum[k], (t.key, parent["key"], k)
                parent, acc_sum = row, defaultdict(int)
                continue
            for k in ("total.n", "answered.n", "unanswered.n"):
                acc_sum[k] += row[k]
            op, acc = row["key"].split("\x1f")
            ls = per.get((t.key, op, acc), [])
            seen.add((t.key, op, acc))
            ans = [f for b, f in ls if nv.is_answered(b)]
            assert row["total.n"] == len(ls)
            assert row["answered.n"] == len(ans)
            assert row["answered.avg_resp"] == _avg(ans, "resp")
            for b in {b for b, _f in ls}:
                fs = [f for bb, f in ls if bb == b]
                assert row[f"{_col(b)}.worked"] == sum(f["worked"] for f in fs)
        # §3.1 #8: TOTALE = RISPOSTE + NON RISPOSTE; RISPOSTE = Σ answered blocks
        tot = t.totals
        assert tot["total.n"] == tot["answered.n"] + tot["unanswered.n"]
        assert tot["answered.n"] == sum(tot.get(f"{_col(b)}.n", 0) for b in nv.ANSWERED)
    assert {k for k, v in per.items() if v} <= seen


def test_unit_filter(store):
    legs = nv.unit_legs(store.calls, store.d_from, store.d_to, store.directory, "org_unit")
    ou = sorted({x[0] for x in legs})[0]
    name = next(u["name"] for u in store.directory["org_units"] if u["id"] == ou)
    r = run(store.con(), "cdr.org_units", _params(store, org_unit=name))
    assert [row["key"] for row in r.tables[0].rows] == [ou]
    assert r.tables[0].totals["total.n"] == sum(1 for x in legs if x[0] == ou)


# ----------------------------------------------------------------------------- checktime / IVR

@pytest.mark.parametrize("rid,kind,minutes", [("cdr.checktime", "checktime", 60),
                                              ("cdr.ivr", "ivr", 60), ("cdr.ivr", "ivr", 15)])
def test_checktime_and_ivr(store, rid, kind, minutes):
    ps = nv.gate_passes(store.calls, store.d_from, store.d_to, kind, minutes)
    assert any(p["ok"] for p in ps) and any(not p["ok"] for p in ps)
    filt = {} if minutes == 60 else {"chart_minutes": str(minutes)}
    r = run(store.con(), rid, _params(store, **filt))
    gates, slots = r.tables
    assert {row["key"] for row in gates.rows} == {p["gkey"] for p in ps}
    for row in [*gates.rows, gates.totals]:
        xs = [p for p in ps if p["gkey"] == row["key"]] if "key" in row else ps
        ok = sum(p["ok"] for p in xs)
        assert row["total.n"] == len(xs)
        assert row["ok.n"] == ok
        assert row["failed.n"] == len(xs) - ok
        assert abs(row["ok.pct"] - round(100 * ok / len(xs), 2)) < 0.006
        if kind == "ivr":
            assert row["left_menu.n"] == sum(1 for p in xs if p["ok"] and not p["routed"])
    assert len(slots.rows) == 1440 // minutes
    for row in slots.rows:
        xs = [p for p in ps if str(p["slot"]) == row["key"]]
        assert row["ok.n"] == sum(p["ok"] for p in xs)
        assert row["failed.n"] == sum(not p["ok"] for p in xs)
    bars = next(c for c in r.charts if c["id"] == "by_slot")
    assert [s["key"] for s in bars["series"]] == ["OK", "FAILED"]
    assert sum(bars["series"][1]["data"]) == gates.totals["failed.n"]
    pie = next(c for c in r.charts if c["id"] == "ok_pie")
    assert pie["series"][0]["data"] == [gates.totals["ok.n"], gates.totals["failed.n"]]
