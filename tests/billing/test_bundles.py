"""Bundles of minutes with a flat fee and the overage, with and without rollover: the worked
examples of docs/billing.md, exact to the 5th decimal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from pbxlens.billing import bundles, tariffs
from pbxlens.billing.files import BillingFileError
from tests.billing.conftest import add_call

# ACME (operator 201) calls 4000 s in January, 7000 s in February (two calls), none in March,
# 10000 s in April, 1000 s in May, and 60 s in January of the next year; Nextup (202) 60 s in
# February.
CALLS = (("ACME", "2022-01-10 10:00:00", 4000), ("ACME", "2022-02-03 10:00:00", 3000),
         ("ACME", "2022-02-20 10:00:00", 4000), ("ACME", "2022-04-01 10:00:00", 10000),
         ("ACME", "2022-05-02 10:00:00", 1000), ("ACME", "2023-01-05 10:00:00", 60),
         ("NEXT", "2022-02-01 09:00:00", 60))


@pytest.fixture()
def store(con):
    for company, start, secs in CALLS:
        add_call(con, start=start, bill=secs, ext="201" if company == "ACME" else "202")
    tid = tariffs.add_tariff(con, description="pacchetto", valid_from="2022-01-01",
                             rate_out="0.1")
    return con, tid


def _by(rows, company):
    return {r["month"].month if r["month"].year == 2022 else 13: r for r in rows
            if r["company"] == company}


def test_monthly_bundle_without_rollover(store):
    con, tid = store
    bundles.add_bundle(con, description="100 min", company="ACME", tariff_id=tid, minutes=100,
                       flat_fee="20", overage_rate="0.05", valid_from="2022-01-01")
    rows = _by(bundles.statement(con, date(2022, 1, 1), date(2023, 1, 31)), "ACME")
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]  # every month: the fee
    jan, feb, mar, apr = rows[1], rows[2], rows[3], rows[4]
    assert (jan["charged_s"], jan["covered_s"], jan["over_s"], jan["total"]) == (
        4000, 4000, 0, D("20.00000"))
    # 1000 s over at 0.05 EUR/min = 0.833333... -> 0.83333, rounded once for the month
    assert (feb["calls"], feb["over_s"], feb["overage"], feb["total"]) == (
        2, 1000, D("0.83333"), D("20.83333"))
    assert (mar["calls"], mar["carried_s"], mar["total"]) == (0, 0, D("20.00000"))
    assert (apr["over_s"], apr["overage"]) == (4000, D("3.33333"))
    assert feb["payg"] == D("11.66667")  # pay per use: 3000 s + 4000 s at 0.1 EUR/min
    assert "NEXT" not in {r["company"] for r in bundles.statement(con, date(2022, 1, 1),
                                                                   date(2022, 12, 31))}


def test_rollover_carries_unused_minutes_within_the_year(store):
    con, tid = store
    bundles.add_bundle(con, description="roll", tariff_id=tid, minutes=100, rollover=True,
                       flat_fee="20", overage_rate="0.05", valid_from="2022-01-01")
    rows = bundles.statement(con, date(2022, 1, 1), date(2023, 1, 31))
    acme = _by(rows, "ACME")
    got = {m: (r["carried_s"], r["covered_s"], r["over_s"], r["carried_out_s"])
           for m, r in acme.items() if m in (1, 2, 3, 4, 5, 6, 13)}
    assert got == {
        1: (0, 4000, 0, 2000),       # 6000 s in the bundle, 4000 used: 2000 carried
        2: (2000, 7000, 0, 1000),    # 8000 available, 7000 used
        3: (1000, 0, 0, 7000),       # no calls: the month's 6000 s add up
        4: (7000, 10000, 0, 3000),   # 13000 available, 10000 used
        5: (3000, 1000, 0, 8000),
        6: (8000, 0, 0, 14000),
        13: (0, 60, 0, 5940)}        # a new year starts from the bundle again
    assert all(r["total"] == D("20.00000") for r in acme.values())
    nxt = _by(rows, "NEXT")           # a bundle for every company: Nextup from its first call
    assert sorted(nxt) == list(range(1, 13)) and nxt[2]["covered_s"] == 60


def test_deficit_months_do_not_carry(store):
    con, tid = store
    bundles.add_bundle(con, description="roll 50", company="Acme", tariff_id=tid, minutes=50,
                       rollover=True, overage_rate="0.06", valid_from="2022-02-01",
                       valid_to="2022-05-31")
    rows = _by(bundles.statement(con, date(2022, 1, 1), date(2022, 12, 31)), "ACME")
    assert sorted(rows) == [2, 3, 4, 5]     # the validity, by company name
    assert (rows[2]["over_s"], rows[2]["overage"], rows[2]["fee"]) == (4000, D("4.00000"), 0)
    assert (rows[3]["carried_s"], rows[4]["carried_s"], rows[4]["over_s"]) == (0, 3000, 4000)
    assert (rows[5]["carried_s"], rows[5]["covered_s"]) == (0, 1000)


def test_bad_bundles(store):
    con, tid = store
    with pytest.raises(BillingFileError, match="overage_rate"):
        bundles.add_bundle(con, description="x", tariff_id=tid, minutes=1, valid_from="2022-01-01")
    with pytest.raises(BillingFileError, match="no tariff"):
        bundles.add_bundle(con, description="x", tariff_id=999, minutes=1, overage_rate="1",
                           valid_from="2022-01-01")


def test_bundles_report(store):
    from pbxlens.reports import Params, export, run

    con, tid = store
    bundles.add_bundle(con, description="100 min", company="ACME", tariff_id=tid, minutes=100,
                       flat_fee="20", overage_rate="0.05", valid_from="2022-01-01")
    r = run(con, "billing.bundles", Params(date_from=date(2022, 1, 1), date_to=date(2022, 3, 31),
                                           filters={"company": ["Acme"]}))
    t = r.tables[0]
    assert [row["key"].split("|")[2] for row in t.rows] == ["2022-01", "2022-02", "2022-03"]
    assert t.rows[1]["money.total"] == D("20.83333") and t.rows[1]["use.over"] == 1000
    assert t.totals["money.total"] == D("60.83333")
    assert '"money.total": "60.83333"' in export.to_json(r).replace("\n", "").replace("  ", " ")
    none = run(con, "billing.bundles", Params(date_from=date(2022, 1, 1),
                                              date_to=date(2022, 3, 31),
                                              filters={"company": ["NEXT"]}))
    assert none.tables[0].rows == []


@pytest.mark.parametrize("spec", [
    dict(description="100 min", company="ACME", minutes=100, flat_fee="20", overage_rate="0.05",
         valid_from="2022-01-01"),
    dict(description="roll", minutes=100, rollover=True, flat_fee="20", overage_rate="0.05",
         valid_from="2022-01-01"),
    dict(description="roll 50", company="ACME", minutes=50, rollover=True, overage_rate="0.06",
         valid_from="2022-02-01", valid_to="2022-05-31"),
], ids=["no rollover", "rollover", "deficit"])
def test_statement_against_the_naive_months(store, spec):
    """The hand-made months against the naive month-by-month recomputation (no free minutes,
    1 s increments: charged = billed; pay per use 0.1 EUR/min per call)."""
    from tests.billing import naive_billing as nv

    con, tid = store
    bundles.add_bundle(con, tariff_id=tid, **spec)
    rated = {f"c{i}": {"tariff": tid, "company": co, "day": date.fromisoformat(start[:10]),
                       "s": secs, "free": 0,
                       "cost": (D("0.1") * secs / 60).quantize(D("0.00001"), "ROUND_HALF_UP")}
             for i, (co, start, secs) in enumerate(CALLS)}
    defs = [{"id": tid, "initial_block_s": 0, "increment_s": 1}]
    want = nv.bundle_statement(rated, defs, {**spec, "tariff_id": tid}, date(2022, 1, 1),
                               date(2023, 1, 31))
    got = {(r["company"], r["month"]): r
           for r in bundles.statement(con, date(2022, 1, 1), date(2023, 1, 31))}
    assert set(got) == set(want)
    for k, w in want.items():
        g = got[k]
        assert (g["calls"], g["charged_s"], g["carried_s"], g["covered_s"], g["over_s"],
                g["carried_out_s"], g["fee"], g["overage"], g["total"], g["payg"]) == (
            w["n"], w["s"], w["carried"], w["covered"], w["over"], w["carried_out"], w["fee"],
            w["overage"], w["total"], w["payg"]), k


def test_bundles_xlsx(store, tmp_path):
    """The statement exported to XLSX (the report page's export) and read back: typed cells,
    money as numbers, durations as Excel durations, the carried-out column."""
    import openpyxl

    from pbxlens.reports import Params, export, run

    con, tid = store
    bundles.add_bundle(con, description="roll", company="ACME", tariff_id=tid, minutes=100,
                       rollover=True, flat_fee="20", overage_rate="0.05",
                       valid_from="2022-01-01")
    r = run(con, "billing.bundles", Params(date_from=date(2022, 1, 1), date_to=date(2022, 2, 28),
                                           lang="it"))
    x = tmp_path / "bundles.xlsx"
    export.to_xlsx(r, x)
    ws = openpyxl.load_workbook(x).worksheets[0]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    header = next(row for row in rows if "a riportare" in row)
    jan = next(row for row in rows if row[0] and str(row[0]).endswith("01/2022"))
    assert jan[header.index("a riportare")].total_seconds() == 2000  # an Excel duration
    assert jan[header.index("totale")] == 20
    assert isinstance(jan[header.index("canone")], (int, float))
