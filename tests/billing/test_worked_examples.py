"""The worked examples of docs/billing.md, read from the page and recomputed by the code: the
explanation's result and rounding, the minimum charge, the free minutes under a minimum, and
the bundle months without and with rollover (flat fee plus overage). A figure edited on the
page without the code, or the code changed without the page, fails here."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from pbxlens.billing import bundles, tariffs
from pbxlens.billing import explain as ex
from tests.billing.conftest import add_call
from tests.billing.test_bundles import CALLS

PAGE = Path(__file__).parents[2] / "docs" / "billing.md"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def section(title: str) -> str:
    """The text of the page's section `## title`, up to the next one."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def flat(text: str) -> str:
    """The prose on one line (the page wraps its sentences anywhere)."""
    return " ".join(text.split())


def table_after(text: str, marker: str) -> list[list[str]]:
    """The cells of the first markdown table after `marker` (header and rule left out)."""
    lines = text[text.index(marker):].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def number(cell: str) -> D:
    """The figure a cell ends with (`4000 s`, `0.05 × 1000 / 60 = 0.83333`, `**0.10000**`)."""
    return D(re.findall(r"\d+(?:\.\d+)?", cell)[-1])


def cost(con, uid) -> D:
    (e,) = ex.explain(con, uid)
    assert e.agrees, (e.cost, e.stored_cost)
    return e.cost


def test_why_this_cost_example(con):
    text = section("Why this cost")
    uid = add_call(con, number="0501234567", bill=61, start="2022-06-01 10:00:00")
    tariffs.add_tariff(con, description="fissi", valid_from="2022-01-01", prefix="0",
                       rate_out="0.6", answer_charge="0.012", initial_block_s=30, increment_s=20)
    (e,) = ex.explain(con, uid)
    charged = re.search(r"× 20 = (\d+) s", flat(text))[1]
    total = re.search(r"cost 0\.012 \+ [\d.]+ = \*\*([\d.]+) €\*\*", flat(text))[1]
    assert (e.tariff.charged_s, e.cost) == (int(charged), D(total)) and e.agrees
    rate, secs, want = re.search(r"Rounding example: ([\d.]+) €/min on (\d+) charged seconds = "
                                 r"[\d.…]+ → \*\*([\d.]+) €\*\*", flat(text)).groups()
    uid2 = add_call(con, number="0612345678", bill=int(secs), start="2022-07-01 10:00:00")
    tariffs.add_tariff(con, description="roma", valid_from="2022-07-01", prefix="06",
                       rate_out=rate)
    assert cost(con, uid2) == D(want)


def test_minimum_charge_examples(con):
    text = section("Minimum charge")
    rate, minimum = re.search(r"Worked example: ([\d.]+) €/min, minimum ([\d.]+) €",
                              flat(text)).groups()
    rows = table_after(text, "Worked example")
    calls = {add_call(con, bill=int(number(r[0])), number="0612345678",
                      start=f"2022-06-01 1{i}:00:00"): number(r[2]) for i, r in enumerate(rows)}
    tariffs.add_tariff(con, description="fissi", valid_from="2022-01-01", prefix="0",
                       rate_out=rate, min_charge=minimum)
    assert len(calls) == 2
    for uid, want in calls.items():
        assert cost(con, uid) == want
    answer, minimum, free, secs, want, nofree = re.search(
        r"with ([\d.]+) € answer charge, ([\d.]+) € minimum and (\d+) free minute, a (\d+) s "
        r"call costs \*\*([\d.]+) €\*\*; its cost without free minutes .*? is ([\d.]+) €",
        flat(text)).groups()
    uid = add_call(con, bill=int(secs), number="3331234567", start="2022-06-02 10:00:00")
    tariffs.add_tariff(con, description="mobili", valid_from="2022-01-01", prefix="3",
                       rate_out=rate, min_charge=minimum, answer_charge=answer,
                       free_minutes=int(free))
    (e,) = ex.explain(con, uid)
    assert (e.cost, e.tariff.cost_nofree, e.tariff.charged_s) == (D(want), D(nofree), 0)


@pytest.fixture()
def acme(con):
    """The page's bundle calls (tests/billing/test_bundles.py CALLS) under one tariff."""
    for company, start, secs in CALLS:
        add_call(con, start=start, bill=secs, ext="201" if company == "ACME" else "202")
    return con, tariffs.add_tariff(con, description="pacchetto", valid_from="2022-01-01",
                                   rate_out="0.1")


def _bundle_terms(text: str) -> dict:
    minutes, fee, rate = re.search(r"Worked example: (\d+) minutes \(\d+ s\) for ([\d.]+) € a "
                                   r"month, overage ([\d.]+) €/min", flat(text)).groups()
    return dict(minutes=int(minutes), flat_fee=fee, overage_rate=rate, company="ACME",
                valid_from="2022-01-01")


def _months(con, rows) -> dict[int, dict]:
    got = {r["month"].month: r for r in bundles.statement(con, date(2022, 1, 1),
                                                          date(2022, 12, 31))}
    return {MONTHS.index(r[0]) + 1: got[MONTHS.index(r[0]) + 1] for r in rows}


def test_bundle_without_rollover_example(acme):
    con, tid = acme
    text = section("Bundles: flat fee plus overage")
    bundles.add_bundle(con, description="doc", tariff_id=tid, **_bundle_terms(text))
    rows = table_after(text, "Without rollover")
    got = _months(con, rows)
    assert len(rows) == 4
    for r in rows:
        g = got[MONTHS.index(r[0]) + 1]
        assert [number(c) for c in r[1:]] == [
            g["charged_s"], g["covered_s"], g["over_s"], g["overage"], g["total"]], r


def test_bundle_with_rollover_example(acme):
    con, tid = acme
    text = section("Bundles: flat fee plus overage")
    bundles.add_bundle(con, description="doc", tariff_id=tid, rollover=True,
                       **_bundle_terms(text))
    rows = table_after(text, "With rollover")
    got = _months(con, rows)
    assert len(rows) == 5
    for r in rows:
        g = got[MONTHS.index(r[0]) + 1]
        assert [number(c) for c in r[1:]] == [
            g["carried_s"], g["bundle_s"] + g["carried_s"], g["charged_s"], g["carried_out_s"],
            g["total"]], r


def test_month_over_the_bundle_example(acme):
    con, tid = acme
    text = section("Bundles: flat fee plus overage")
    minutes, secs, over, cost_, rate = re.search(
        r"with (\d+) minutes \(\d+ s\) from February, (\d+) s in February is (\d+) s over "
        r"\(([\d.]+) € at ([\d.]+) €/min\) and March starts with nothing carried", flat(text)
    ).groups()
    bundles.add_bundle(con, description="doc", tariff_id=tid, company="ACME",
                       minutes=int(minutes), rollover=True, overage_rate=rate,
                       valid_from="2022-02-01")
    got = {r["month"].month: r for r in bundles.statement(con, date(2022, 2, 1),
                                                          date(2022, 3, 31))}
    feb, mar = got[2], got[3]
    assert (feb["charged_s"], feb["over_s"], feb["overage"]) == (int(secs), int(over), D(cost_))
    assert (feb["carried_out_s"], mar["carried_s"]) == (0, 0)
