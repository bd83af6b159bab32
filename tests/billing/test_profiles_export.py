from __future__ import annotations

import itertools
from decimal import Decimal as D

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxlens.billing import profiles, tariffs
from pbxlens.billing.consumption import BREAKDOWNS, breakdown, totals
from pbxlens.billing.export import export_xlsx
from tests.billing.conftest import add_call, costs

SEED = """name\ttype\tselection\tconnectionfee\tconnectionduration\tnextunitsfee\tnextunitsduration\tenabled
billing\tany\t\t0,01\t1\t0,05\t60\tt
billing\texact\t34712345678\t0,1\t1\t0,2\t2\tt
billing\tprefix\t144\t1\t1\t1,5\t60\tt
billingNew\tany\t\t\t\t\t\tt
billingNew\texact\t128\t0,2\t1\t0,1\t3\tt
billingesatto\tany\t\t\t\t\t\tf
billingpref\tany\t\t\t\t\t\tf
billingzero\tany\t\t\t\t\t\tf
"""


def test_seed_profiles_pb1_to_pb3_and_roundtrip(con, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text(SEED)
    calls = {(n, s): add_call(con, number=n, bill=s, gateway="LINE1")
             for n, s in [("0612345678", 1), ("0612345678", 61), ("0612345678", 62), ("0612345678", 0),
                          ("34712345678", 10), ("1441234", 120)]}
    assert profiles.import_profiles(con, f)["profiles"] == 5
    profiles.set_line(con, "LINE1", "billing")
    c = costs(con, "profile")
    got = {k: c[u][4] for k, u in calls.items() if u in c}
    assert got == {("0612345678", 1): D("0.01"), ("0612345678", 61): D("0.06"),
                   ("0612345678", 62): D("0.11"), ("34712345678", 10): D("1.10"), ("1441234", 120): D("4.00")}
    out = tmp_path / "out.csv"
    profiles.export_profiles(con, out)
    assert out.read_text().splitlines() == SEED.splitlines()
    x = tmp_path / "out.xlsx"
    profiles.export_profiles(con, x)
    rows = list(openpyxl.load_workbook(x).active.iter_rows(values_only=True))
    assert rows[1] == ("billing", "any", None, "0,01", "1", "0,05", "60", "t")


def test_pb4_longest_prefix_and_pb5_flat(con, tmp_path):
    rules = [{"kind": "prefix", "selection": p, "connection_fee": str(i), "connection_s": 0,
              "next_fee": None, "next_s": 0} for i, p in enumerate(["001", "003", "0033", "00", "050", "0"], 1)]
    con.execute("BEGIN TRANSACTION")
    profiles.save_profile(con, "pb4", rules)
    con.execute("COMMIT")
    nums = {"001555123456": 1, "0041234567": 4, "0501234567": 5, "0612345678": 6, "0033612345678": 3}
    ids = {n: add_call(con, number=n, bill=30, gateway="L4") for n in nums}
    profiles.set_line(con, "L4", "pb4")
    c = costs(con, "profile")
    assert {n: c[u][4] for n, u in ids.items()} == {n: D(v) for n, v in nums.items()}


def test_tariff_file_roundtrip(con, tmp_path):
    tariffs.add_tariff(con, description="Tariffazione verso reti fisse", valid_from="05/01/2022",
                       valid_to="05/01/2023", prefix="0", rate_out="0,65", countries="IT")
    x = tmp_path / "t.xlsx"
    tariffs.export_tariffs(con, x)
    con.execute("DELETE FROM billing_tariffs")
    assert tariffs.import_tariffs(con, x)["added"] == 1
    t = tariffs.list_tariffs(con)[0]
    assert (t["rate_out"], str(t["valid_to"]), t["countries"], t["prefix"]) == (D("0.65"), "2023-01-05", "IT", "0")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 4000), st.sampled_from(["0612345678", "3331234567"]),
                          st.sampled_from(["201", "202", "299"])), min_size=1, max_size=12),
       st.integers(0, 30), st.integers(1, 60))
def test_properties(con, tmp_path, calls, free_min, inc):
    con.execute("DELETE FROM calls; DELETE FROM call_legs; DELETE FROM call_costs; DELETE FROM billing_tariffs; "
                "DELETE FROM rating_calls")  # the keys of the calls of earlier examples
    for i, (s, n, ext) in enumerate(calls):
        add_call(con, start=f"2022-05-01 10:{i:02d}:00", bill=s, number=n, ext=ext, gateway="=SUM(A1)")
    tid = tariffs.add_tariff(con, description="p", valid_from="2022-01-01", rate_out="0.7",
                             answer_charge="0.01", free_minutes=free_min, increment_s=inc)
    rows = con.execute("SELECT billed_s, free_s, cost, cost_nofree FROM call_costs").fetchall()
    assert all(f >= 0 and f <= b for b, f, _, _ in rows)
    assert all(c <= nf for _, _, c, nf in rows)
    pools = con.execute("SELECT company, sum(free_s) FROM call_costs GROUP BY company").fetchall()
    assert all(used <= free_min * 60 for _, used in pools)  # one pool per company
    # cost never decreases with duration (same tariff, no allowance)
    tariffs.update_tariff(con, tid, free_minutes=0)
    by = sorted(con.execute("SELECT billed_s, cost FROM call_costs").fetchall())
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(by))
    total = con.execute("SELECT coalesce(sum(cost), 0), coalesce(sum(cost_nofree), 0) FROM call_costs").fetchone()
    for name in BREAKDOWNS:
        t = totals(breakdown(con, name))
        assert (t["cost"], t["cost_nofree"]) == (total[0], total[1])
    x = tmp_path / "f.xlsx"
    export_xlsx(con, x, unrated_calls="mark")
    wb = openpyxl.load_workbook(x)
    assert len(wb.sheetnames) == len(BREAKDOWNS) + 1  # an information sheet first
    answered = con.execute("SELECT count(*) FROM calls WHERE bill_s > 0").fetchone()[0]
    for ws in wb.worksheets[1:]:
        *body, last = list(ws.iter_rows(values_only=True))[1:]
        # the total is the sum of the rows, each rounded to the cent; it is within half a cent
        # per row of the exact per-call sum; every answered call is counted, rated or not
        assert last[0] == "Total" and D(str(last[9])) == sum(D(str(r[9])) for r in body)
        assert all(D(str(r[9])) == D(str(r[9])).quantize(D("0.01")) for r in body)
        assert abs(D(str(last[9])) - total[0]) <= D("0.005") * len(body)
        assert last[1] == answered
    gw = wb["Gateway"]
    if gw.max_row > 2:  # some call was rated: the text stays text
        assert gw.cell(2, 1).data_type == "s" and gw.cell(2, 1).value == "=CFG1()"
