"""Unrated calls are an error, not a zero: the billing.unrated report against a naive
recomputation over simulator output (three seeds), its drill-down, and hand-made cases."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from pbxlens.billing import rating, tariffs
from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, run
from pbxlens.reports.billing_unrated import unrated_count
from pbxlens.reports.drilldown import Cell, drill
from pbxlens.simulate import generate
from pbxlens.store import analytics as db
from tests.billing import naive_billing as nv
from tests.billing.conftest import add_call
from tests.billing.test_differential import DAYS, SEEDS, START, TARIFFS, _params


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def rated(request, tmp_path_factory):
    """The differential store without its catch-all tariff: some calls stay unrated."""
    folder = tmp_path_factory.mktemp(f"unrated{request.param}")
    generate(folder, days=DAYS, calls_per_day=300, seed=request.param, start=START,
             formats=["csv-detailed"])
    con = db.connect(folder / "s.duckdb")
    ingest_paths(con, [folder / "directory.json", folder / "cdr_detailed.csv"])
    defs = []
    for t in TARIFFS[1:]:
        tid = tariffs.add_tariff(con, rerate=False, **t)
        defs.append({**t, "id": tid, "free_minutes": t.get("free_minutes"),
                     "initial_block_s": t.get("initial_block_s", 0),
                     "increment_s": t.get("increment_s", 1)})
    con.execute("BEGIN TRANSACTION")
    rating.rate_all(con)
    con.execute("COMMIT")
    directory = json.loads((folder / "directory.json").read_text(encoding="utf-8"))
    calls = nv.ratable(nv.read(folder / "cdr_detailed.csv"), directory)
    yield con, nv.rate(calls, defs)
    con.close()


def _naive_unrated(con, expected) -> list[dict]:
    path = Path(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                            "current_database()").fetchone()[0])
    directory = json.loads((path.parent / "directory.json").read_text(encoding="utf-8"))
    calls = nv.ratable(nv.read(path.parent / "cdr_detailed.csv"), directory)
    return [c for c in calls if c["uid"] not in expected]


def test_report_equals_naive_unrated_calls(rated):
    con, expected = rated
    naive = _naive_unrated(con, expected)
    assert naive, "the seeds leave some calls without a tariff"
    want: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for c in naive:
        cell = want[c["gw"] or ""][c["dir"]]
        cell[0] += 1
        cell[1] += c["s"]
    r = run(con, "billing.unrated", _params())
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == set(want)
    for row in t.rows:
        w = want[row["key"]]
        assert row["qty.n_in"] == w["in"][0] and row["qty.n_out"] == w["out"][0], row
        assert row["time.s"] == w["in"][1] + w["out"][1]
    assert t.totals["qty.n"] == len(naive) == t.summary["n"]
    end = START.replace(day=START.day + DAYS - 1)
    assert unrated_count(con, START, end) == len(naive)
    key = t.rows[0]["key"]
    d = drill(con, "billing.unrated", _params(), Cell("billing.unrated", "unrated", key, "qty.n"))
    assert d.count == t.rows[0]["qty.n"]
    assert {x["unique_id"] for x in d.rows} <= {c["uid"] for c in naive}


def test_a_new_tariff_clears_its_calls(con):
    a = add_call(con, number="3331234567", bill=60)
    add_call(con, direction="incoming", number="0612345678", bill=30, gateway="GW9")
    add_call(con, number="0612345678", bill=0)  # not answered: never unrated
    tariffs.add_tariff(con, description="fissi", valid_from="2022-01-01", prefix="0",
                       rate_out="0.1")
    p = Params(date_from=date(2022, 6, 1), date_to=date(2022, 6, 1))
    t = run(con, "billing.unrated", p).tables[0]
    assert {(r["key"], r["qty.n_in"], r["qty.n_out"]) for r in t.rows} == {
        ("GW9", 1, 0), ("=CFG1()", 0, 1)}
    d = drill(con, "billing.unrated", p, Cell("billing.unrated", "unrated", "=CFG1()", "qty.n"))
    assert [x["unique_id"] for x in d.rows] == [a]
    tariffs.add_tariff(con, description="mobili", valid_from="2022-01-01", prefix="3",
                       rate_out="0.5")
    assert unrated_count(con, None, None) == 1
    only_in = Params(date_from=date(2022, 6, 1), date_to=date(2022, 6, 1),
                     filters={"direction": ["uscita"]})
    assert run(con, "billing.unrated", only_in).tables[0].rows == []
