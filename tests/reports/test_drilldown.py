"""Drill-down: the calls behind a count cell are the facts its report summed, on every report
family, three simulator seeds (CDR, Call Center CDR, rated calls) and the fixed contract store
(feedback): the list's Σ equals the cell, for the totals row and a sample of rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pbxlens.billing import rating, tariffs
from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, all_reports, drilldown, get, run
from pbxlens.reports.drilldown import Cell, DrillError
from pbxlens.simulate import generate
from pbxlens.store import analytics as db

from . import json_contract as jc

SEEDS = (11, 22, 33)
START = date(2026, 5, 4)
DAYS = 3
# cells whose facts are not calls: channel peaks over time, agent states, callback requests
NO_DRILL = {"cdr.coincidences", "cdr.coincidences_out", "cc.agent_activity",
            "missed.dashboard", "missed.today", "missed.caller_queue", "missed.history",
            "missed.effectiveness",  # callback requests and attempts, not calls
            "billing.bundles"}  # a monthly statement per bundle and company


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def seed_store(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"drill{request.param}")
    generate(folder, days=DAYS, calls_per_day=200, seed=request.param, start=START,
             formats=["csv-detailed", "cc-csv-detailed"])
    con = db.connect(folder / "store.duckdb")
    ingest_paths(con, [folder])
    for t in jc.TARIFFS:
        tariffs.add_tariff(con, rerate=False, **t)
    con.execute("BEGIN TRANSACTION")
    rating.rate_all(con)
    con.execute("COMMIT")
    yield con
    con.close()


def _sample(rows: list[dict], k: int = 3) -> list[dict]:
    """The first, the last and the busiest rows of a table (deterministic)."""
    if len(rows) <= k:
        return rows
    busiest = max(rows, key=lambda r: sum(v for v in r.values() if isinstance(v, int)))
    return list({id(r): r for r in (rows[0], rows[-1], busiest)}.values())


def check_report(con, rid: str, params: Params, per_table: int = 3) -> int:
    """Every count cell of the totals rows and a sample of rows: drill value = cell."""
    result = run(con, rid, params)
    checked = 0
    for t in result.tables:
        cols = [c for c in t.columns if c.kind == "sum" and c.unit == "count"]
        for row in [None, *_sample(t.rows, per_table)]:
            values = t.totals if row is None else row
            for c in cols:
                cell = Cell(rid, t.key, None if row is None else row["key"], c.key)
                got = drilldown.cell_value(con, rid, params, cell)
                assert got == (values.get(c.key) or 0), (rid, t.key, cell.row, c.key)
                checked += 1
    return checked


def _params(**filters) -> Params:
    return Params(date_from=START, date_to=START + timedelta(days=DAYS - 1),
                  filters={k: v.split(",") for k, v in filters.items()}, today=date(2026, 5, 8))


DRILLABLE = [d.id for d in all_reports() if d.facts is not None]


def test_every_report_with_count_cells_drills_down_but_the_listed_ones():
    assert {d.id for d in all_reports() if d.facts is None} - NO_DRILL == {
        "cdr.conversation_times", "billing.multiservice"}  # seconds and money only
    assert len(DRILLABLE) >= 40


@pytest.mark.parametrize("rid", [r for r in DRILLABLE if r != "feedback.service"])
def test_count_cells_equal_their_calls(seed_store, rid):
    assert check_report(seed_store, rid, _params()) > 0


@pytest.mark.parametrize("rid, filters", [
    ("cdr.queues_by_date", {"queue": "700", "exit_cause": "CANCELED"}),
    ("cdr.queues", {"empty_queue": "yes", "status": "OK,CANCELED"}),
    ("cdr.queue_operators", {"operator": "201,202", "account": "202"}),
    ("cdr.operators", {"source": "3", "exit_cause": "NCC-AGENT"}),
    ("cdr.dashboard", {"status": "OK", "destination": "0*2"}),
    ("cc.queues_by_hour", {"direction": "incoming", "queue": "700"}),
    ("cc.operators", {"queue": "700"}),
    ("cdr.ivr", {"chart_minutes": "15"}),
    ("billing.by_operator", {"direction": "out"}),
])
def test_count_cells_equal_their_calls_with_filters(seed_store, rid, filters):
    check_report(seed_store, rid, _params(**filters))


def test_the_list_of_a_cell(seed_store):
    p = _params()
    r = run(seed_store, "cdr.queues", p)
    row = max(r.tables[0].rows, key=lambda x: x["total.n"])
    res = drilldown.drill(seed_store, "cdr.queues", p,
                          Cell("cdr.queues", "queues", row["key"], "answered.n"), limit=5)
    assert res.value == res.count == row["answered.n"]
    assert len(res.rows) == min(5, res.count) and res.truncated == (res.count > 5)
    assert {"unique_id", "started", "caller", "called", "status", "block", "queue"} <= set(
        res.rows[0])
    assert all(b in ("NCC", "TRASFERIMENTO") for b in res.blocks)
    assert all(x["block"] in res.blocks for x in res.rows)
    with pytest.raises(DrillError):  # an average is no count
        drilldown.drill(seed_store, "cdr.queues", p,
                        Cell("cdr.queues", "queues", row["key"], "answered.avg_talk"))
    with pytest.raises(DrillError):
        drilldown.drill(seed_store, "cdr.coincidences", p,
                        Cell("cdr.coincidences", "lines", None, "line.n"))


def test_feedback_and_billing_on_the_contract_store(tmp_path):
    con = db.connect(jc.build_store(tmp_path), read_only=True)
    try:
        p = Params(date_from=jc.START, date_to=jc.END, today=jc.TODAY)
        for rid in ("feedback.service", "billing.dashboard", "billing.by_operator",
                    "billing.consumption"):
            assert check_report(con, rid, p, per_table=10) > 0, rid
        assert get("feedback.service").facts is not None
    finally:
        con.close()
