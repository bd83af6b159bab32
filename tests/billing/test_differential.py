"""The rating engine and every billing report against the naive Python rating
(tests/billing/naive_billing.py) over simulator output, three seeds."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from pbxlens.billing import rating, tariffs
from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, export, run
from pbxlens.simulate import generate
from pbxlens.store import analytics as db

from . import naive_billing as nv

SEEDS = (5, 17, 29)
START = date(2026, 5, 4)
DAYS = 3

TARIFFS = [
    dict(description="generica", valid_from="2026-01-01", rate_in="0.5", rate_out="0.25",
         answer_charge="0.05", free_minutes=20, initial_block_s=30, increment_s=6),
    dict(description="mobili", valid_from="2026-01-01", prefix="3", rate_out="0.9", increment_s=60),
    dict(description="Milano", valid_from="2026-01-01", prefix="02", rate_out="0.1"),
    dict(description="gateway Roma", valid_from="2026-01-01", inbound_gateway="GW-Roma",
         rate_in="0.3"),
    dict(description="servizi clienti", valid_from="2026-01-01", company="ORG2", rate_in="0.02",
         rate_out="0.3", free_minutes=10),
    dict(description="Bergamo day 2", valid_from=str(START + timedelta(days=1)),
         valid_to=str(START + timedelta(days=1)), outbound_config="Uscita-Bergamo", rate_out="0.4"),
    dict(description="spenta", valid_from="2026-01-01", rate_out="9", active=False),
]


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def rated(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"bill{request.param}")
    generate(folder, days=DAYS, calls_per_day=300, seed=request.param, start=START,
             formats=["csv-detailed"])
    con = db.connect(folder / "s.duckdb")
    ingest_paths(con, [folder / "directory.json", folder / "cdr_detailed.csv"])
    defs = []
    for t in TARIFFS:
        tid = tariffs.add_tariff(con, rerate=False, **t)
        defs.append({**t, "id": tid, "free_minutes": t.get("free_minutes"),
                     "initial_block_s": t.get("initial_block_s", 0),
                     "increment_s": t.get("increment_s", 1)})
    con.execute("BEGIN TRANSACTION")
    rating.rate_all(con)
    con.execute("COMMIT")
    directory = json.loads((folder / "directory.json").read_text(encoding="utf-8"))
    calls = nv.ratable(nv.read(folder / "cdr_detailed.csv"), directory)
    expected = nv.rate(calls, defs)
    yield con, expected
    con.close()


def _params(**filters) -> Params:
    return Params(date_from=START, date_to=START + timedelta(days=DAYS - 1),
                  filters={k: [v] for k, v in filters.items()})


def test_per_call_costs(rated):
    con, exp = rated
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT unique_id, tariff_id, free_s, cost, cost_nofree FROM call_costs "
        "WHERE method = 'tariff'").fetchall()}
    assert set(got) == set(exp)
    assert any(e["free"] for e in exp.values())  # the allowance is exercised ...
    assert any(0 < e["free"] < e["s"] for e in exp.values())  # ... and crossed mid-call
    for uid, e in exp.items():
        assert got[uid] == (e["tariff"], e["free"], e["cost"], e["nofree"]), uid


def _check(row: dict, g: dict, ctx) -> None:
    assert row["qty.n"] == g["n"] and row["qty.n_in"] == g["n_in"], ctx
    assert row["qty.n_out"] == g["n_out"], ctx
    assert (row["time.s"], row["time.s_in"], row["time.s_out"]) == (g["s"], g["s_in"], g["s_out"]), ctx
    for k in ("cost_in", "cost_out", "cost"):
        assert row[f"cost.{k}"] == g[k], (ctx, k)
        assert isinstance(row[f"cost.{k}"], Decimal)
    for k in ("nofree_in", "nofree_out", "nofree"):
        assert row[f"nofree.{k}"] == g[k], (ctx, k)


@pytest.mark.parametrize("by,key", [
    ("organization", lambda c: c["company"]),
    ("operator", lambda c: c["ext"] or ""),
    ("gateway", lambda c: c["gw"] or ""),
    ("date", lambda c: c["day"].isoformat()),
    ("month", lambda c: c["day"].strftime("%Y-%m")),
])
def test_breakdowns(rated, by, key):
    con, exp = rated
    r = run(con, f"billing.by_{by}", _params())
    groups = nv.group(exp, key)
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == set(groups)
    for row in t.rows:
        _check(row, groups[row["key"]], (by, row["key"]))
    _check(t.totals, nv.group(exp, lambda c: "all")["all"], (by, "totals"))


def test_dashboard_and_filters(rated):
    con, exp = rated
    r = run(con, "billing.dashboard", _params())
    allg = nv.group(exp, lambda c: "all")["all"]
    assert [t.key for t in r.tables] == ["monthly", "daily"]
    s = r.tables[0].summary
    assert (s["n"], s["s"], s["cost"], s["nofree"]) == (allg["n"], allg["s"], allg["cost"],
                                                         allg["nofree"])
    assert r.charts[0]["id"] == "monthly_cost"
    # the sum of per-call costs equals every breakdown's total (issue 8 tests)
    per_call = con.execute("SELECT sum(cost) FROM call_costs WHERE method = 'tariff'").fetchone()[0]
    assert r.tables[1].totals["cost.cost"] == per_call == allg["cost"]
    inbound = run(con, "billing.by_organization", _params(direction="in"))
    assert inbound.tables[0].totals["qty.n"] == allg["n_in"]
    assert inbound.tables[0].totals["cost.cost"] == allg["cost_in"]
    org2 = run(con, "billing.by_operator", _params(company="SERVIZI CLIENTI"))
    want = nv.group({u: c for u, c in exp.items() if c["company"] == "ORG2"}, lambda c: "x")
    assert org2.tables[0].totals["cost.cost"] == want["x"]["cost"]
    # JSON: money as the exact Decimal string
    d = export.to_dict(r)
    assert d["tables"][0]["totals"]["cost.cost"] == str(allg["cost"])


def test_consumption(rated):
    con, exp = rated
    r = run(con, "billing.consumption", _params())
    per_t = nv.group(exp, lambda c: str(c["tariff"]))
    t = r.tables[0]
    assert {row["key"] for row in t.rows} == set(per_t)
    for row in t.rows:
        g = per_t[row["key"]]
        assert row["free.used"] == g["free"]
        assert row["total.cost"] == g["cost"] and row["in.cost"] == g["cost_in"]
        assert row["total.s"] == g["s"]
    gen = next(row for row in t.rows if row["label"] == "generica")
    companies = {c["company"] for c in exp.values() if c["tariff"] == int(gen["key"])}
    assert gen["free.limit"] == 20 * 60 * len(companies)


BUNDLES = (
    # every company of the tariff, without rollover, the statement of the simulated month
    (dict(description="generica 5 min", tariff="generica", minutes=5, flat_fee="10",
          overage_rate="0.2", valid_from="2026-01-01"), date(2026, 5, 1), date(2026, 5, 31)),
    # one company with rollover from February: unused months carry into May, then the deficit
    (dict(description="ORG2 roll", tariff="servizi clienti", company="ORG2", minutes=3,
          rollover=True, flat_fee="5", overage_rate="0.1", valid_from="2026-02-01"),
     date(2026, 1, 1), date(2026, 7, 31)),
    # rollover ending with its validity, asked from April: carried time from February/March
    (dict(description="mobili 2 min", tariff="mobili", minutes=2, rollover=True,
          overage_rate="0.5", valid_from="2026-02-15", valid_to="2026-06-30"),
     date(2026, 4, 1), date(2026, 12, 31)),
)


@pytest.mark.parametrize("case", range(len(BUNDLES)), ids=lambda i: BUNDLES[i][0]["description"])
def test_bundles_statement(rated, case):
    """billing.bundles against the naive month-by-month recomputation (rollover in and out,
    overage, flat fee, pay per use)."""
    from pbxlens.billing import bundles

    con, exp = rated
    spec, d_from, d_to = BUNDLES[case]
    ids = dict(con.execute("SELECT description, id FROM billing_tariffs").fetchall())
    defs = [{**t, "id": ids[t["description"]], "initial_block_s": t.get("initial_block_s", 0),
             "increment_s": t.get("increment_s", 1)} for t in TARIFFS]
    tid = ids[spec["tariff"]]
    values = {k: v for k, v in spec.items() if k != "tariff"}
    bid = bundles.add_bundle(con, tariff_id=tid, **values)
    try:
        want = nv.bundle_statement(exp, defs, {**values, "tariff_id": tid}, d_from, d_to)
        assert any(w["n"] for w in want.values())
        if spec.get("rollover"):  # carried in and out, and a month over the bundle
            assert all(any(w[k] for w in want.values()) for k in ("carried", "carried_out", "over"))
        r = run(con, "billing.bundles", Params(date_from=d_from, date_to=d_to))
    finally:
        bundles.delete_bundle(con, bid)
    rows = {tuple(row["key"].split("|")[1:]): row for row in r.tables[0].rows}
    assert set(rows) == {(co, f"{m:%Y-%m}") for co, m in want}
    for (co, m), w in want.items():
        row = rows[(co, f"{m:%Y-%m}")]
        got = {k: row[f"use.{k}"] for k in ("n", "s", "b", "carried", "covered", "over",
                                             "carried_out")}
        got |= {k: row[f"money.{k}"] for k in ("fee", "overage", "total", "payg")}
        assert got == {k: w[k] for k in got}, (co, m)
    assert r.tables[0].totals["money.total"] == sum(w["total"] for w in want.values())
