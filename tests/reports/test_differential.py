"""Every report against a naive pure-Python recomputation from cdr_detailed.csv (3 seeds)."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from pbxlens.reports import Params, run

from . import naive


def _params(store, **filters):
    return Params(date_from=store.d_from, date_to=store.d_to,
                  filters={k: [v] for k, v in filters.items()})


def _pct(num: int, den: int) -> float:
    """A percentage rounded once, half-up, to 2 decimals (the reports' rule; Python's round()
    would take 65.625 to 65.62)."""
    return float((Decimal(100 * num) / Decimal(den)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def _col(block: str) -> str:
    return block.lower().replace(" ", "_").replace("?", "unknown")


def _check_queue_row(row: dict, visits: list[dict], ctx: str) -> None:
    by_block: dict = defaultdict(list)
    for b, f in visits:
        by_block[b].append(f)
    n = len(visits)
    ans = [f for b, f in visits if b in naive.ANSWERED]
    assert row["total.n"] == n, ctx
    assert row["answered.n"] == len(ans), ctx
    assert row["unanswered.n"] == n - len(ans), ctx
    if ans:
        assert row["answered.avg_talk"] == sum(f["talk"] for f in ans) // len(ans), ctx
        assert row["answered.avg_dur"] == sum(f["dur"] for f in ans) // len(ans), ctx
        assert row["answered.avg_resp"] == sum(f["resp"] for f in ans) // len(ans), ctx
        assert row["kpi.asa"] == sum(f["asa"] for f in ans) // len(ans), ctx
    else:
        assert row["answered.avg_talk"] is None, ctx
    for b, fs in by_block.items():
        c = _col(b)
        assert row[f"{c}.n"] == len(fs), (ctx, b)
        if b in naive.ANSWERED:
            assert row[f"{c}.dur"] == sum(f["dur"] for f in fs), (ctx, b)
            assert row[f"{c}.talk"] == sum(f["talk"] for f in fs), (ctx, b)
        else:
            assert row[f"{c}.wait"] == sum(f["wait"] for f in fs), (ctx, b)
            assert row[f"{c}.avg_wait"] == sum(f["wait"] for f in fs) // len(fs), (ctx, b)
    den = sum(f["sl_den"] for _b, f in visits)
    hit = sum(f["sl_hit"] for _b, f in visits)
    if den:
        assert row["kpi.sl"] == _pct(hit, den), ctx


def test_queues_by_queue(store):
    r = run(store.con(), "cdr.queues", _params(store))
    visits = naive.queue_visits(store.calls, store.d_from, store.d_to)
    per_q: dict = defaultdict(list)
    for qk, _d, _h, b, f in visits:
        per_q[qk].append((b, f))
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == set(per_q)
    for row in t.rows:
        _check_queue_row(row, per_q[row["key"]], row["key"])
    _check_queue_row(t.totals, [(b, f) for _q, _d, _h, b, f in visits], "totals")
    # header strip: tempo totale = Σ durata answered + Σ attesa unanswered (§0.5 rule 3)
    assert t.summary["tot"] == sum(f["tot"] for *_x, f in visits)
    # charts: weekday total series sums to the table total
    wk = next(c for c in r.charts if c["id"] == "by_weekday")
    assert sum(wk["series"][0]["data"]) == t.totals["total.n"]


def test_queues_by_date_and_hour(store):
    visits = naive.queue_visits(store.calls, store.d_from, store.d_to)
    con = store.con()
    by_date = run(con, "cdr.queues_by_date", _params(store))
    by_hour = run(con, "cdr.queues_by_hour", _params(store))
    for res, key in ((by_date, lambda d, h: d.isoformat()), (by_hour, lambda d, h: str(h))):
        assert {t.key for t in res.tables} == {v[0] for v in visits}
        for t in res.tables:
            cells: dict = defaultdict(list)
            for qk, d, h, b, f in visits:
                if qk == t.key:
                    cells[key(d, h)].append((b, f))
            for row in t.rows:
                vs = cells.get(row["key"], [])
                if vs:
                    _check_queue_row(row, vs, (res.report, t.key, row["key"]))
                else:
                    assert row["total.n"] == 0
            assert sum(row["total.n"] for row in t.rows) == t.totals["total.n"]
    for t in by_hour.tables:
        assert len(t.rows) == 24
    for t in by_date.tables:
        assert len(t.rows) == (store.d_to - store.d_from).days + 1


def test_queue_filter_and_exit_cause(store):
    con = store.con()
    visits = naive.queue_visits(store.calls, store.d_from, store.d_to)
    qk = sorted({v[0] for v in visits})[0]
    r = run(con, "cdr.queues", _params(store, queue=qk))
    assert [row["key"] for row in r.tables[0].rows] == [qk]
    r = run(con, "cdr.queues", _params(store, exit_cause="NCC"))
    assert r.tables[0].totals["total.n"] == sum(1 for v in visits if v[3] == "NCC")
    assert r.tables[0].totals["unanswered.n"] == 0


def test_dashboard(store):
    r = run(store.con(), "cdr.dashboard", _params(store))
    exp = naive.dashboard(store.calls, store.d_from, store.d_to)
    daily = r.tables[0]
    for row in daily.rows:
        from datetime import date
        d = date.fromisoformat(row["key"])
        for dr in ("incoming", "outgoing", "internal"):
            assert row[f"{dr}.answered"] == exp.get((d, dr, True), {}).get("n", 0)
            assert row[f"{dr}.unanswered"] == exp.get((d, dr, False), {}).get("n", 0)
            dur = sum(exp.get((d, dr, a), {}).get("dur", 0) for a in (True, False))
            assert row[f"{dr}.t_total"] == dur
        wait = sum(exp.get((d, "incoming", a), {}).get("wait", 0) for a in (True, False))
        talk = sum(exp.get((d, "incoming", a), {}).get("talk", 0) for a in (True, False))
        assert row["incoming.t_wait"] == wait
        assert row["incoming.t_talk"] == talk
        if wait + talk:
            assert abs(row["incoming.pct_wait"] - round(100 * wait / (wait + talk), 2)) < 0.006
    # the three tables agree on totals
    for t in r.tables[1:]:
        assert t.totals == {**daily.totals, "label": t.totals["label"]}
    assert len(r.tables[1].rows) == 24 and len(r.tables[2].rows) == 7


def _leg_index(store):
    ops = {o["extension"] for o in store.directory["operators"]}
    return naive.operator_legs(store.calls, store.d_from, store.d_to, ops, store.accounts)


def test_operators(store):
    r = run(store.con(), "cdr.operators", _params(store))
    legs = _leg_index(store)
    per: dict = defaultdict(list)
    for op, _a, _q, b, *_r, f in legs:
        per[op].append((b, f))
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == set(per)
    for row in t.rows:
        ls = per[row["key"]]
        assert row["total.n"] == len(ls)
        ans = [f for b, f in ls if b in naive.ANSWERED]
        assert row["answered.n"] == len(ans)
        by_b: dict = defaultdict(list)
        for b, f in ls:
            by_b[b].append(f)
        for b, fs in by_b.items():
            c = _col(b)
            assert row[f"{c}.n"] == len(fs), (row["key"], b)
            assert row[f"{c}.worked"] == sum(f["worked"] for f in fs), (row["key"], b)
            if b in naive.ANSWERED:
                assert row[f"{c}.talk"] == sum(f["talk"] for f in fs)
                assert row[f"{c}.avg_ring"] == sum(f["ring"] for f in fs) // len(fs)
                assert row[f"{c}.avg_resp"] == sum(f["resp"] for f in fs) // len(fs)


def test_queue_operators(store):
    r = run(store.con(), "cdr.queue_operators", _params(store))
    legs = [x for x in _leg_index(store) if x[2] is not None]
    per: dict = defaultdict(list)
    for op, acc, qk, b, *_r, f in legs:
        per[(qk, op, acc or "\x00")].append((b, f))
    seen = set()
    for t in r.tables:
        for row in t.rows:
            if row["level"] != 1:
                continue
            op, acc = row["key"].split("\x1f")
            ls = per.get((t.key, op, acc), [])
            seen.add((t.key, op, acc))
            assert row["total.n"] == len(ls)
            ans = [f for b, f in ls if b in naive.ANSWERED]
            assert row["answered.n"] == len(ans)
            if ans:
                assert row["answered.avg_worked"] == sum(f["worked"] for f in ans) // len(ans)
                assert row["answered.avg_resp"] == sum(f["resp"] for f in ans) // len(ans)
    assert {k for k, v in per.items() if v} <= seen


def test_operator_accounts(store):
    r = run(store.con(), "cdr.operator_accounts", _params(store))
    legs = _leg_index(store)
    exp: dict = defaultdict(lambda: defaultdict(int))
    for op, acc, _q, b, dr, kind, status, f in legs:
        key = f"{op}\x1f{acc or chr(0)}"
        if kind == "recv" and b in naive.ANSWERED and dr in ("incoming", "internal"):
            g = "in" if dr == "incoming" else "int"
            exp[key][f"{g}.n"] += 1
            exp[key][f"{g}.worked"] += f["worked"]
            exp[key]["worked_total"] += f["worked"]
        elif kind == "orig" and dr == "outgoing":
            exp[key]["out.n"] += 1
            exp[key]["out.n_ok" if status == "OK" else "out.n_ko"] += 1
            exp[key]["out.worked"] += f["worked"]
            exp[key]["worked_total"] += f["worked"]
    t = r.tables[0]
    got_keys = set()
    for row in t.rows:
        if row["level"] == 1:
            got_keys.add(row["key"])
            for k, v in exp.get(row["key"], {}).items():
                assert row[k] == v, (row["key"], k)
            if row["key"] not in exp:
                assert row["worked_total"] == 0
    assert set(exp) <= got_keys
