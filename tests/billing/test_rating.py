from __future__ import annotations

from decimal import Decimal as D

from pbxlens.billing import rating, tariffs
from tests.billing.conftest import add_call, costs


def rate(con):
    con.execute("BEGIN TRANSACTION")
    s = rating.rate_all(con)
    con.execute("COMMIT")
    return s


def test_bl1_answer_charge_directions_and_validity(con):
    out = add_call(con, start="2021-12-01 10:00:00", bill=120)
    inb = add_call(con, direction="incoming", start="2021-12-01 11:00:00", bill=90)
    zero = add_call(con, start="2021-12-01 12:00:00", bill=0)
    expired = add_call(con, start="2023-01-06 10:00:00", bill=60)
    last_day = add_call(con, start="2023-01-05 23:59:00", bill=60)
    t = tariffs.add_tariff(con, description="Test tariffazione per Azienda", valid_from="19/10/2021",
                           valid_to="05/01/2023", rate_in="0.5", rate_out="0.25", answer_charge="0.5")
    c = costs(con)
    assert c[out][3:] == (0, D("1.00000"), D("1.00000"))
    assert c[inb][5] == D("1.25000")
    assert zero not in c and expired not in c
    assert c[last_day][0] == t and c[last_day][5] == D("0.75000")


def test_bl2_longest_prefix_and_missing_direction(con):
    mob = add_call(con, number="3331234567", bill=60)
    fix = add_call(con, number="0501234567", bill=120)
    inb = add_call(con, direction="incoming", number="0501234567", bill=60)
    green = add_call(con, number="800123456", bill=60)
    tariffs.add_tariff(con, description="reti fisse", valid_from="2022-01-05", valid_to="2023-01-05",
                       prefix="0", rate_out="0.65")
    tariffs.add_tariff(con, description="reti mobili", valid_from="2022-01-05", valid_to="2023-01-05",
                       prefix="3", rate_out="3.9")
    tariffs.add_tariff(con, description="Pisa", valid_from="2022-01-05", prefix="050", rate_out="0.1")
    c = costs(con)
    assert c[mob][5] == D("3.90000")
    assert c[fix][5] == D("0.20000")  # 050 beats 0
    assert inb not in c and green not in c


def test_bl3_bl4_free_allowance_crossed_mid_call(con):
    c1 = add_call(con, start="2022-03-01 10:00:00", bill=5940)
    c2 = add_call(con, start="2022-03-02 10:00:00", bill=180)
    c3 = add_call(con, start="2022-03-03 10:00:00", bill="59.2")  # ceil -> 60
    c4 = add_call(con, start="2023-01-02 10:00:00", bill=60)
    tid = tariffs.add_tariff(con, description="free", valid_from="2022-01-01", rate_out="0.65",
                             free_minutes=100)
    c = costs(con)
    assert c[c1][3:] == (5940, D("0.00000"), D("64.35000"))
    assert c[c2][3:] == (60, D("1.30000"), D("1.95000"))
    assert c[c3][2:] == (60, 0, D("0.65000"), D("0.65000"))
    assert c[c4][3:] == (60, D("0.00000"), D("0.65000"))
    tariffs.update_tariff(con, tid, answer_charge="0.10")
    c = costs(con)
    assert c[c1][4:] == (D("0.10000"), D("64.45000"))
    from pbxlens.billing.consumption import consumption
    tot = next(r for r in consumption(con, year=2022) if r["direction"] == "total")
    assert (tot["free_used_s"], tot["free_limit_s"], tot["free_pct"]) == (6000, 6000, 100)


def test_increments_and_initial_block(con):
    a = add_call(con, bill=1)
    b = add_call(con, bill=61)
    d = add_call(con, bill=95)
    tariffs.add_tariff(con, description="step", valid_from="2022-01-01", rate_out="0.6",
                       initial_block_s=30, increment_s=20)
    c = costs(con)
    assert c[a][5] == D("0.30000")    # 30 s block
    assert c[b][5] == D("0.70000")    # 30 + 2*20 = 70 s
    assert c[d][5] == D("1.10000")    # 30 + 4*20 = 110 s


def test_company_and_inactive_precedence(con):
    acme = add_call(con, ext="201", bill=60)
    nextup = add_call(con, ext="202", bill=60)
    tariffs.add_tariff(con, description="generica", valid_from="2021-01-01", rate_out="0.5", active=False)
    g = tariffs.add_tariff(con, description="all", valid_from="2021-01-01", rate_out="0.3")
    a = tariffs.add_tariff(con, description="acme", company="ACME", valid_from="2021-01-01", rate_out="0.2")
    c = costs(con)
    assert c[acme][0] == a and c[nextup][0] == g


def test_rate_twice_changes_nothing_and_rerate_only_affected(con):
    calls = [add_call(con, start=f"2022-0{m}-01 10:00:00", number=n, bill=100)
             for m in range(1, 7) for n in ("0612345678", "3331234567")]
    tariffs.add_tariff(con, description="base", valid_from="2022-01-01", rate_out="0.5")
    before = con.execute("SELECT * FROM call_costs ORDER BY unique_id").fetchall()
    assert rate(con)["written"] == 0 and rate(con)["deleted"] == 0
    assert con.execute("SELECT * FROM call_costs ORDER BY unique_id").fetchall() == before
    mob = tariffs.add_tariff(con, description="mobile", valid_from="2022-03-01", prefix="3", rate_out="1")
    run = con.execute("SELECT max(run_id) FROM call_costs").fetchone()[0]
    touched = {r[0] for r in con.execute("SELECT unique_id FROM call_costs WHERE run_id = ?", [run]).fetchall()}
    assert touched == set(calls[5::2])  # mobile calls from March
    assert len(costs(con)) == len(calls)
    tariffs.delete_tariff(con, mob)
    assert con.execute("SELECT * FROM call_costs ORDER BY unique_id").fetchall() != before  # run ids
    assert [r[:-1] for r in con.execute("SELECT * FROM call_costs ORDER BY unique_id").fetchall()] == \
        [r[:-1] for r in before]


def test_rerate_shifts_later_free_minutes_only(con):
    a = add_call(con, start="2022-02-01 10:00:00", bill=50, number="3331234567")
    b = add_call(con, start="2022-03-01 10:00:00", bill=50)
    c_ = add_call(con, start="2022-04-01 10:00:00", bill=50)
    tariffs.add_tariff(con, description="free", valid_from="2022-01-01", rate_out="0.6", free_minutes=1)
    c = costs(con)
    assert (c[a][3], c[b][3], c[c_][3]) == (50, 10, 0)
    tariffs.add_tariff(con, description="mob", valid_from="2022-01-01", prefix="3", rate_out="1")
    c = costs(con)
    assert (c[b][3], c[c_][3]) == (50, 10)


def test_ingest_rates_batch(tmp_path):
    from datetime import date
    from pathlib import Path

    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate
    from pbxlens.store import analytics as db
    generate(tmp_path / "sim", days=2, calls_per_day=100, seed=3, start=date(2022, 5, 1),
             formats=["csv-detailed"])
    con = db.connect(tmp_path / "s.duckdb")
    tariffs.add_tariff(con, description="all", valid_from="2022-01-01", rate_in="0.1", rate_out="0.2")
    ingest_paths(con, [Path(tmp_path / "sim")])
    n = con.execute("SELECT count(*) FROM calls WHERE bill_s > 0 AND direction <> 'internal'").fetchone()[0]
    assert n > 0 and con.execute("SELECT count(*) FROM call_costs").fetchone()[0] == n


def test_price_edit_reprices_its_calls_in_place(con):
    """A price edit (rate, answer charge, minimum, block, increment) re-prices the calls of its
    tariff only, with the free seconds they had; an edit that changes which directions a
    tariff rates re-rates as any other change. Both equal a full rating."""
    a = add_call(con, start="2022-03-01 10:00:00", bill=100)
    b = add_call(con, start="2022-03-02 10:00:00", bill=100)
    m = add_call(con, start="2022-03-02 11:00:00", bill=100, number="3331234567")
    i = add_call(con, direction="incoming", bill=100)
    free = tariffs.add_tariff(con, description="free", valid_from="2022-01-01", rate_out="0.6",
                              free_minutes=2)
    mob = tariffs.add_tariff(con, description="mob", valid_from="2022-01-01", prefix="3", rate_out="1")
    assert costs(con)[a][3] == 100 and costs(con)[b][3] == 20  # 120 free seconds
    choices = con.execute("SELECT * FROM rating_choices ORDER BY ALL").fetchall()
    assert tariffs.prices_only(tariffs.get_tariff(con, free), {
        **tariffs.get_tariff(con, free), "rate_out": D("0.9"), "increment_s": 30})
    tariffs.update_tariff(con, free, rate_out="0.9", increment_s=30, min_charge="0.5")
    run = con.execute("SELECT max(run_id) FROM call_costs").fetchone()[0]
    got = costs(con)
    assert {r[0] for r in con.execute("SELECT unique_id FROM call_costs WHERE run_id = ?",
                                      [run]).fetchall()} == {a, b}
    assert got[a][3:] == (100, D("0.00000"), D("1.80000"))   # all free: no minimum
    assert got[b][2:] == (100, 20, D("1.35000"), D("1.80000"))  # 80 s -> 90 s
    assert got[m][0] == mob and i not in got
    assert con.execute("SELECT * FROM rating_choices ORDER BY ALL").fetchall() == choices
    assert not tariffs.prices_only(tariffs.get_tariff(con, free), {
        **tariffs.get_tariff(con, free), "rate_in": D("0.1")})
    tariffs.update_tariff(con, free, rate_in="0.1")  # now rates incoming calls too
    assert costs(con)[i][0] == free
    kept = con.execute("SELECT * EXCLUDE (run_id) FROM call_costs ORDER BY ALL").fetchall()
    con.execute("DELETE FROM call_costs")
    rate(con)
    assert con.execute("SELECT * EXCLUDE (run_id) FROM call_costs ORDER BY ALL").fetchall() == kept


def test_allowance_edit_replays_the_pools_it_takes_calls_from(con):
    """An edit of a tariff's validity and allowance (the general path): the edited tariff's
    pools hold all its calls (nothing before or after them to replay), the pool it takes a
    call from replays its later calls; equal to a full rating."""
    a = add_call(con, start="2022-02-01 10:00:00", bill=50, number="3331234567")
    b = add_call(con, start="2022-03-01 10:00:00", bill=50)
    c_ = add_call(con, start="2022-04-01 10:00:00", bill=50)
    m = add_call(con, start="2022-07-01 10:00:00", bill=100, number="3339876543")
    tariffs.add_tariff(con, description="free", valid_from="2022-01-01", rate_out="0.6",
                       free_minutes=1)
    mob = tariffs.add_tariff(con, description="mob", valid_from="2022-06-01", prefix="3",
                             rate_out="1", free_minutes=1)
    c = costs(con)
    assert (c[a][3], c[b][3], c[c_][3], c[m][3]) == (50, 10, 0, 60)
    tariffs.update_tariff(con, mob, valid_from="2022-01-01", free_minutes=2)
    run = con.execute("SELECT max(run_id) FROM call_costs").fetchone()[0]
    assert {r[0] for r in con.execute("SELECT unique_id FROM call_costs WHERE run_id = ?",
                                      [run]).fetchall()} == {a, b, c_, m}
    c = costs(con)
    assert (c[a][0], c[a][3], c[m][3]) == (mob, 50, 70)  # mob's pool: 120 s from February
    assert (c[b][3], c[c_][3]) == (50, 10)  # free's pool replayed without the moved call
    kept = con.execute("SELECT * EXCLUDE (run_id) FROM call_costs ORDER BY ALL").fetchall()
    con.execute("DELETE FROM call_costs")
    rate(con)
    assert con.execute("SELECT * EXCLUDE (run_id) FROM call_costs ORDER BY ALL").fetchall() == kept


def test_edit_rerates_the_calls_it_rated_under_a_key_since_chosen_otherwise(con):
    """A call keeps the tariff it was rated with while its key's stored choice moves on (the
    directory moved its operator to another company, then a new call of the same key was
    rated): an edit of that tariff re-rates it too (an extra call of the scope, outside the
    days whose choice moves), as a full rating would."""
    a = add_call(con, start="2022-03-01 10:00:00", bill=100)
    base = tariffs.add_tariff(con, description="base", valid_from="2022-01-01", rate_out="0.5")
    acme = tariffs.add_tariff(con, description="acme", valid_from="2022-01-01", company="ACME",
                              rate_out="0.3", free_minutes=1)
    assert costs(con)[a][0] == acme
    con.execute("UPDATE operators SET organization = 'NEXT' WHERE extension = '201'")
    b = add_call(con, start="2022-03-02 10:00:00", bill=100, batch=2)
    con.execute("BEGIN TRANSACTION")
    rating.rate_batch(con, 2)
    con.execute("COMMIT")
    assert (costs(con)[a][0], costs(con)[b][0]) == (acme, base)
    tariffs.update_tariff(con, acme, rate_out="0.35", free_minutes=2)
    assert (costs(con)[a][0], costs(con)[b][0]) == (base, base)
    kept = con.execute("SELECT * EXCLUDE (run_id) FROM call_costs ORDER BY ALL").fetchall()
    con.execute("DELETE FROM call_costs")
    rate(con)
    assert con.execute("SELECT * EXCLUDE (run_id) FROM call_costs ORDER BY ALL").fetchall() == kept
