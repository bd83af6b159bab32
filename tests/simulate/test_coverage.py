"""A generated month of each scenario shows every outcome the spec describes (each status,
exit cause, source/destination type, call-path line type, Call Center outcome, event kind and
agent state) and every behaviour the simulator promises, except the documented gaps
(coverage.NOT_SIMULATED, coverage.SCENARIO_GAPS)."""

from __future__ import annotations

from datetime import date

import pytest

from pbxlens.simulate import SCENARIOS, generate

from . import coverage as cv

FORMATS = ["csv-detailed", "cc-csv-detailed", "events"]


@pytest.fixture(scope="module", params=list(SCENARIOS))
def month(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"month-{request.param}")
    generate(out, days=30, seed=3, start=date(2026, 5, 1), formats=FORMATS,
             scenario=request.param)
    return request.param, cv.observe(out)


def test_every_outcome_of_the_spec(month):
    scenario, got = month
    gaps = cv.gaps(scenario)
    missing = [(kind, code) for kind, codes in cv.EXPECTED.items() for code in codes
               if code not in got[kind] and (kind, code) not in gaps]
    assert not missing, f"{scenario}: a month lacks {missing}"


def test_gaps_are_real(month):
    """A documented gap that the month nevertheless shows is stale documentation (the
    scenario-specific ones may show by chance and are only informative)."""
    _scenario, got = month
    shown = [k for k in cv.NOT_SIMULATED if k[1] in got[k[0]]]
    assert not shown, shown


def test_expected_lists_come_from_the_vocabulary():
    from pbxlens.models import vocabulary as V

    assert set(cv.EXPECTED["exit_cause"]) == {t.code for t in V.EXIT_CAUSES}
    assert len(cv.EXPECTED["status"]) == len(V.STATUSES) == 8
    assert {k for k, _c in cv.NOT_SIMULATED} <= set(cv.EXPECTED)
