"""Hand-made CDR: midnight, DST days, empty queue, transfers, answered elsewhere, an operator
with three accounts, an empty range; plus the spec's seed identities (§3.1)."""

from __future__ import annotations

from datetime import date

from pbxlens.reports import Params, run
from pbxlens.store import analytics as db


def _run(path, rid, d_from, d_to, **filters):
    con = db.connect(path, read_only=True)
    return run(con, rid, Params(date_from=d_from, date_to=d_to,
                                filters={k: v.split(",") for k, v in filters.items()}))


MAY4, MAY5 = date(2026, 5, 4), date(2026, 5, 5)


def test_call_across_midnight_counts_on_its_start_day(edge):
    r = _run(edge, "cdr.queues_by_date", MAY4, MAY5)
    t = r.tables[0]
    rows = {row["key"]: row for row in t.rows}
    assert rows["2026-05-05"]["total.n"] == 0
    assert rows["2026-05-04"]["ncc.n"] == 3  # midnight call, ringall call, blind transfer
    only5 = _run(edge, "cdr.queues", MAY5, MAY5)
    assert only5.tables[0].rows == []
    # --to is inclusive through 23:59:59
    r = _run(edge, "cdr.queues_by_hour", MAY4, MAY4)
    assert r.tables[0].rows[23]["ncc.n"] == 1
    assert r.tables[0].rows[23]["ncc.dur"] == 130


def test_dst_days(edge):
    spring = _run(edge, "cdr.queues_by_hour", date(2026, 3, 29), date(2026, 3, 29))
    t = spring.tables[0]
    assert len(t.rows) == 24
    assert t.rows[1]["total.n"] == 1 and t.rows[3]["total.n"] == 1 and t.rows[2]["total.n"] == 0
    assert t.totals["noanswer.wait"] == 120
    # the call at 28/03 23:59:59 is not on 29/03; it is on 28/03
    prev = _run(edge, "cdr.queues", date(2026, 3, 28), date(2026, 3, 28))
    assert prev.tables[0].totals["total.n"] == 1
    autumn = _run(edge, "cdr.queues_by_date", date(2026, 10, 25), date(2026, 10, 26))
    rows = {row["key"]: row for row in autumn.tables[0].rows}
    assert rows["2026-10-25"]["total.n"] == 2 and rows["2026-10-26"]["total.n"] == 0
    hours = _run(edge, "cdr.queues_by_hour", date(2026, 10, 25), date(2026, 10, 25))
    assert hours.tables[0].rows[2]["total.n"] == 1 and hours.tables[0].rows[23]["total.n"] == 1
    dash = _run(edge, "cdr.dashboard", date(2026, 3, 29), date(2026, 3, 29))
    assert dash.tables[2].rows[0]["label"] == "Sun"  # 29/03/2026 is a Sunday, listed first


def test_empty_queue_flag(edge):
    hidden = _run(edge, "cdr.queues", MAY4, MAY4)
    assert all(row["label"] for row in hidden.tables[0].rows)
    shown = _run(edge, "cdr.queues", MAY4, MAY4, empty_queue="yes")
    blank = [row for row in shown.tables[0].rows if row["label"] == ""]
    assert len(blank) == 1 and blank[0]["canceled.n"] == 1
    assert shown.tables[0].totals["total.n"] == hidden.tables[0].totals["total.n"] + 1


def test_transfers_and_answered_elsewhere(edge):
    r = _run(edge, "cdr.queues", MAY4, MAY4)
    tot = r.tables[0].totals
    # §0.5 rule 5: answered = NCC + TRASFERIMENTO (ATXFER); blind transfer stays NCC at queue level
    assert tot["answered.n"] == tot["ncc.n"] + tot["trasferimento.n"] == 4
    assert tot["queue_joinempty.n"] == 1 and tot["queue_joinempty.wait"] == 0
    assert tot["kpi.short"] == 1  # the 3 s abandon
    # SL = answered within 20 s / (answered + abandons >= 5 s)
    assert tot["kpi.sl"] == round(100 * 3 / 5, 2)
    ops = _run(edge, "cdr.queue_operators", MAY4, MAY4)
    t = ops.tables[0]
    rows = {row["key"]: row for row in t.rows}
    assert rows["301"]["transfer.n"] == 1 and rows["301"]["trasferimento.n"] == 1
    assert rows["302"]["answered_elsewhere.n"] == 1
    assert rows["303"]["refused.n"] == 1
    assert rows["301"]["timeout.n"] == 1
    # transfer targets (source = operator) are not queue legs
    assert rows["302"]["total.n"] == 1 and rows["303"]["total.n"] == 1
    assert "ncc.n" in rows["302"] and rows["302"]["ncc.n"] == 0
    # ...but they are the operators' direct legs in R14
    r14 = {row["key"]: row for row in _run(edge, "cdr.operators", MAY4, MAY4).tables[0].rows}
    assert r14["302"]["ncc.n"] == 1 and r14["303"]["ncc.n"] == 1


def test_operator_with_three_accounts(edge):
    r = _run(edge, "cdr.operator_accounts", MAY4, MAY4)
    rows = r.tables[0].rows
    i = next(k for k, row in enumerate(rows) if row["key"] == "301")
    accs = [row["label"] for row in rows[i + 1:] if row["level"] == 1][:3]
    assert accs == ["301", "301-app", "301-dect"]
    op = rows[i]
    kids = [row for row in rows if row["level"] == 1 and row["key"].startswith("301\x1f")]
    for col in r.tables[0].columns:
        if col.unit != "percent" and "avg" not in col.key:
            assert op[col.key] == sum(k[col.key] for k in kids), col.key
    dect = next(k for k in kids if k["label"] == "301-dect")
    assert dect["out.n"] == 1 and dect["out.worked"] == 120 and dect["in.n"] == 1
    # R3: the account with no data in a queue is still listed
    r3 = _run(edge, "cdr.queue_operators", MAY4, MAY4, account="301-app")
    labels = [row["label"] for row in r3.tables[0].rows]
    assert labels[:2] == ["301 (Tre Account)", "301-app"]


def test_empty_range(edge):
    d = date(2027, 1, 10)
    for rid in ("cdr.queues", "cdr.queues_by_date", "cdr.queues_by_hour", "cdr.queue_operators",
                "cdr.operators", "cdr.operator_accounts", "cdr.dashboard"):
        r = _run(edge, rid, d, d)
        for t in r.tables:
            assert all(v in (0, None) for k, v in t.totals.items()
                       if k not in ("label", "level")), rid
    dash = _run(edge, "cdr.dashboard", d, d)
    assert len(dash.tables[0].rows) == 1 and dash.tables[0].rows[0]["total.answered"] == 0


def test_identities_on_simulated_data(store):
    """§3.1: totals = sums, TOTALE = RISPOSTE + NON RISPOSTE, answered = NCC + TRASFERIMENTO,
    header tempo totale = NCC + TRASF durata + unanswered waits, operator = Σ accounts,
    % ATTESA = wait / (wait + talk)."""
    con = store.con()
    p = Params(date_from=store.d_from, date_to=store.d_to)
    for rid in ("cdr.queues", "cdr.queues_by_date", "cdr.queues_by_hour"):
        for t in run(con, rid, p).tables:
            for row in [*t.rows, t.totals]:
                assert row["total.n"] == row["answered.n"] + row["unanswered.n"]
                assert row["answered.n"] == row.get("ncc.n", 0) + row.get("trasferimento.n", 0)
            for c in t.columns:
                if c.kind == "sum":
                    assert t.totals[c.key] == sum(r[c.key] for r in t.rows), c.key
            waits = sum(v for k, v in t.totals.items() if k.endswith(".wait"))
            durs = sum(v for k, v in t.totals.items() if k.endswith(".dur"))
            assert t.summary["tot"] == durs + waits
            assert t.summary["avg_wait"] == (t.summary["tot"] - t.summary["talk"]) // t.totals[
                "total.n"]
    for rid in ("cdr.queue_operators", "cdr.operator_accounts"):
        for t in run(con, rid, p).tables:
            rows = t.rows
            for i, row in enumerate(rows):
                if row["level"] != 0:
                    continue
                kids = []
                for k in rows[i + 1:]:
                    if k["level"] != 1:
                        break
                    kids.append(k)
                for c in t.columns:
                    if c.kind == "sum":
                        assert row[c.key] == sum(k[c.key] for k in kids), (rid, c.key)
            if rid == "cdr.operator_accounts":
                for row in rows:
                    assert row["worked_total"] == row["in.worked"] + row["out.worked"] + row[
                        "int.worked"]
                    assert row["out.n"] == row["out.n_ok"] + row["out.n_ko"]
    for t in run(con, "cdr.dashboard", p).tables:
        for row in t.rows:
            w, tk = row["incoming.t_wait"], row["incoming.t_talk"]
            if w + tk:
                assert row["incoming.pct_wait"] == round(100 * w / (w + tk) + 1e-9, 2)
            else:
                assert row["incoming.pct_wait"] is None
            assert row["total.answered"] == sum(row[f"{d}.answered"] for d in
                                                ("incoming", "outgoing", "internal"))
    r14 = run(con, "cdr.operators", p).tables[0]
    for row in r14.rows:
        assert row["total.n"] == row["answered.n"] + row["unanswered.n"]


def test_accounts_only_the_data_names_are_sorted_under_their_operator():
    # the facts come from queries without an order: "first seen" changed between two runs of
    # cdr.queue_operators on the same store
    from pbxlens.reports import scaffold

    facts = {("201", "zeta"): 1, ("201", "201-APP"): 2, ("201", "Account011"): 3}
    for order in (list(facts.items()), list(reversed(facts.items()))):
        rows, _ = scaffold.operator_rows(["201"], str, dict(order), {"201": ["zeta"]}, "en")
        assert [r.key for r in rows] == ["201", "201\x1fzeta", "201\x1f201-APP",
                                         "201\x1fAccount011"]
