"""Why this cost: every field of the explanation on hand-made tariffs and calls, and the
explanation's result equal to the stored cost on simulator data (three seeds)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from pbxlens.billing import explain as ex
from pbxlens.billing import profiles, tariffs
from tests.billing.conftest import add_call


def one(con, uid, method="tariff") -> ex.Explanation:
    (e,) = ex.explain(con, uid, method=method)
    assert e.agrees, (e.cost, e.stored_cost)
    return e


def outcome(e: ex.Explanation) -> dict[str, tuple[str, str | None]]:
    return {c.description: (c.outcome, c.criterion) for c in e.candidates}


def test_longest_prefix_and_why_longer_ones_did_not_apply(con):
    uid = add_call(con, number="0501234567", bill=61, start="2022-06-01 10:00:00")
    tariffs.add_tariff(con, description="fissi", valid_from="2022-01-01", prefix="0",
                       rate_out="0.6", answer_charge="0.012", initial_block_s=30, increment_s=20)
    tariffs.add_tariff(con, description="Pisa scaduta", valid_from="2021-01-01",
                       valid_to="2022-05-31", prefix="050", rate_out="0.1")
    tariffs.add_tariff(con, description="Pisa 0501 GW2", valid_from="2022-01-01", prefix="0501",
                       inbound_gateway="GW2", outbound_config="=CFG2()", rate_out="0.1")
    tariffs.add_tariff(con, description="Pisa spenta", valid_from="2022-01-01", prefix="05012",
                       rate_out="0.1", active=False)
    tariffs.add_tariff(con, description="mobili", valid_from="2022-01-01", prefix="3",
                       rate_out="2")
    tariffs.add_tariff(con, description="solo in", valid_from="2022-01-01", rate_in="1")
    tariffs.add_tariff(con, description="tutti", valid_from="2022-01-01", rate_out="0.5")
    e = one(con, uid)
    assert outcome(e) == {
        "fissi": ("chosen", None), "tutti": ("applies", "prefix"),
        "Pisa scaduta": ("validity", None), "Pisa 0501 GW2": ("gateway", None),
        "Pisa spenta": ("inactive", None), "mobili": ("prefix", None),
        "solo in": ("no_rate", None)}
    assert [c.description for c in e.candidates][:2] == ["fissi", "tutti"]
    t = e.tariff
    assert (e.method, e.number, e.gateway, e.billed_s, e.direction) == (
        "tariff", "0501234567", "=CFG1()", 61, "out")
    assert (t.prefix, t.initial_block_s, t.increment_s, t.billable_s, t.charged_s) == (
        "0", 30, 20, 61, 70)   # 30 + 2 x 20
    assert (t.rate_exact, t.rate_part, t.rounding) == (D("0.7"), D("0.70000"), 0)
    assert (t.answer_charge, t.cost, t.free) == (D("0.012"), D("0.71200"), None)
    d = e.to_dict()
    assert d["cost"] == "0.71200" and d["other_prefixes"] == 1 and d["agrees"]
    assert {c["description"] for c in d["candidates"]} == set(outcome(e)) - {"mobili"}


def test_prefix_tie_breaks_on_validity_then_id(con):
    uid = add_call(con, number="3331234567", bill=60, start="2022-06-01 10:00:00")
    old = tariffs.add_tariff(con, description="old", valid_from="2022-01-01", prefix="333",
                             rate_out="1")
    tariffs.add_tariff(con, description="new", valid_from="2022-03-01", prefix="333",
                       rate_out="2")
    tariffs.add_tariff(con, description="new twin", valid_from="2022-03-01", prefix="333",
                       rate_out="3")
    tariffs.add_tariff(con, description="acme 3", company="ACME", valid_from="2022-06-02",
                       prefix="3", rate_out="4")
    e = one(con, uid)
    assert outcome(e) == {"new": ("chosen", None), "new twin": ("applies", "id"),
                          "old": ("applies", "valid_from"), "acme 3": ("validity", None)}
    assert e.cost == D("2.00000") and e.tariff.tariff_id == old + 1


def test_company_wins_over_longer_prefix_and_validity_boundaries(con):
    first = add_call(con, number="3331234567", bill=60, start="2022-06-30 23:59:59")
    after = add_call(con, number="3331234567", bill=60, start="2022-07-01 00:00:00")
    tariffs.add_tariff(con, description="acme June", company="ACME", valid_from="2022-06-01",
                       valid_to="2022-06-30", rate_out="0.2")
    tariffs.add_tariff(con, description="333", valid_from="2022-01-01", prefix="333",
                       rate_out="0.9")
    e = one(con, first)
    assert outcome(e) == {"acme June": ("chosen", None), "333": ("applies", "company")}
    assert e.company == "ACME" and e.company_name == "Acme" and e.cost == D("0.20000")
    e = one(con, after)
    assert outcome(e) == {"333": ("chosen", None), "acme June": ("validity", None)}
    assert e.cost == D("0.90000")


def test_free_minutes_crossing_and_rounding(con):
    a = add_call(con, bill=50, start="2022-03-01 10:00:00")
    b = add_call(con, bill=50, start="2022-03-01 11:00:00")
    c = add_call(con, bill="7.2", start="2022-03-02 10:00:00")  # ceil -> 8
    d = add_call(con, bill=20, start="2022-03-01 12:00:00")   # b spent the pool that day
    n = add_call(con, bill=50, start="2023-01-02 10:00:00")       # a new year: a new pool
    tariffs.add_tariff(con, description="free", valid_from="2022-01-01", rate_out="0.07",
                       free_minutes=1, initial_block_s=0, increment_s=1)
    ea, eb, ec, en = (one(con, u) for u in (a, b, c, n))
    assert (ea.tariff.free.used_before_s, ea.tariff.free.used_s, ea.tariff.free.left_s) == (0, 50, 10)
    assert ea.cost == 0 and ea.tariff.charged_s == 0 and ea.tariff.cost_nofree == D("0.05833")
    fb = eb.tariff.free
    assert (fb.allowance_s, fb.used_before_s, fb.used_s, fb.left_s, fb.year) == (60, 50, 10, 0, 2022)
    assert eb.tariff.charged_s == 40
    # 0.07 x 40 / 60 = 0.0466666... -> 0.04667 (half-up, once)
    assert (eb.tariff.rate_exact.quantize(D("1e-10")), eb.cost) == (D("0.0466666667"), D("0.04667"))
    assert eb.tariff.rounding == D("0.04667") - eb.tariff.rate_exact > 0
    assert (ec.billed_s, ec.tariff.free.used_before_s, ec.tariff.free.used_s) == (8, 60, 0)
    assert ec.cost == D("0.00933")  # 0.07 x 8 / 60 = 0.009333...
    assert (en.tariff.free.year, en.tariff.free.used_before_s, en.cost) == (2023, 0, 0)
    fd = one(con, d).tariff.free
    assert (fd.used_before_s, fd.used_s, fd.left_s) == (60, 0, 0)


def test_unrated_call_says_why(con):
    uid = add_call(con, number="0044201234567", bill=60)
    tariffs.add_tariff(con, description="Italia", valid_from="2022-01-01", countries="IT",
                       rate_out="0.1")
    tariffs.add_tariff(con, description="Francia", valid_from="2022-01-01", countries="FR",
                       rate_out="0.1")
    (e,) = ex.explain(con, uid)
    assert e.method is None and e.cost is None and e.stored_cost is None and e.agrees
    assert outcome(e) == {"Italia": ("countries", None), "Francia": ("countries", None)}


def test_profile_explanation(con, tmp_path):
    uid = add_call(con, number="3331234567", bill=95, line="TRUNK1")
    f = tmp_path / "p.csv"
    f.write_text("name,type,selection,connectionfee,connectionduration,nextunitsfee,"
                 "nextunitsduration,enabled\nbase,any,,0.1,30,0.02,20,t\n"
                 "base,prefix,333,0.2,60,0.05,30,t\n", encoding="utf-8")
    profiles.import_profiles(con, f)
    profiles.set_line(con, "TRUNK1", "base")
    e = one(con, uid, method="profile")
    p = e.profile
    assert (p.rule_kind, p.selection, p.units, p.cost, p.rules_considered) == (
        "prefix", "333", 2, D("0.30000"), 2)


def test_unknown_and_unratable_calls(con):
    with pytest.raises(ex.ExplainError, match="no such call"):
        ex.explain(con, "nope")
    uid = add_call(con, bill=0)
    with pytest.raises(ex.ExplainError, match="not ratable"):
        ex.explain(con, uid)


from tests.billing.test_differential import rated  # noqa: E402,F401  (three seeds)


def test_explanations_equal_stored_costs_on_simulator_data(rated):  # noqa: F811
    con, expected = rated
    rows = con.execute("SELECT DISTINCT unique_id FROM rating_calls ORDER BY 1").fetchall()
    seen = rated_n = unrated = 0
    for (uid,) in rows:
        for e in ex.explain(con, uid):
            seen += 1
            assert e.agrees, (uid, e.cost, e.stored_cost)
            if e.method:
                rated_n += 1
                assert e.tariff.tariff_id == expected[uid]["tariff"]
                assert e.cost == expected[uid]["cost"]
                assert e.tariff.free is None or e.tariff.free.used_s == e.stored_free_s
            else:
                unrated += 1
                assert uid not in expected
    assert rated_n == len(expected) and rated_n > 100 and seen == rated_n + unrated


def test_cli_explain(con, tmp_path):
    from typer.testing import CliRunner

    from pbxlens.cli import app

    uid = add_call(con, number="3331234567", bill=61)
    unr = add_call(con, direction="incoming", number="0612345678", bill=61)
    tariffs.add_tariff(con, description="mobili", valid_from="2022-01-01", prefix="3",
                       rate_out="0.6", free_minutes=1)
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                       "current_database()").fetchone()[0]
    con.close()
    res = CliRunner().invoke(app, ["billing", "explain", uid, "--db", path])
    assert res.exit_code == 0, res.output
    assert "mobili" in res.output and "used by this call 60 s" in res.output
    assert "stored cost: 0.01000" in res.output
    res = CliRunner().invoke(app, ["billing", "explain", unr, "--db", path, "--json"])
    assert res.exit_code == 0, res.output
    import json
    (d,) = json.loads(res.output)
    assert d["method"] is None and d["candidates"][0]["outcome"] == "no_rate"
    res = CliRunner().invoke(app, ["billing", "explain", "nope", "--db", path])
    assert isinstance(res.exception, ex.ExplainError) and "no such call" in str(res.exception)


def test_minimum_charge_per_tariff(con):
    """0.6 €/min with a 0.10 € minimum: 5 s cost 0.05 -> 0.10; 20 s cost 0.20 (above it); a
    call the free minutes cover owes only its answer charge; the hypothetical cost without
    free minutes has the minimum too."""
    from tests.billing.conftest import costs

    short = add_call(con, bill=5, start="2022-06-01 10:00:00", number="0612345678")
    free = add_call(con, bill=30, start="2022-06-01 09:00:00", number="3331234567")
    long_ = add_call(con, bill=20, start="2022-06-01 11:00:00", number="0612345678")
    tariffs.add_tariff(con, description="fissi", valid_from="2022-01-01", prefix="0",
                       rate_out="0.6", min_charge="0.1")
    tariffs.add_tariff(con, description="mobili", valid_from="2022-01-01", prefix="3",
                       rate_out="0.6", min_charge="0.5", answer_charge="0.01", free_minutes=1)
    c = costs(con)
    assert c[short][4:] == (D("0.10000"), D("0.10000"))
    assert c[long_][4:] == (D("0.20000"), D("0.20000"))
    assert c[free][3:] == (30, D("0.01000"), D("0.50000"))
    e = one(con, short)
    assert (e.tariff.minimum, e.tariff.minimum_applied, e.tariff.rate_part) == (
        D("0.1"), True, D("0.05000"))
    assert not one(con, long_).tariff.minimum_applied
    f = one(con, free).tariff
    assert (f.charged_s, f.cost, f.cost_nofree, f.minimum_applied) == (
        0, D("0.01000"), D("0.50000"), False)
