"""Relative periods: calendar days in the PBX time zone (month ends, leap years, weeks across
DST changes), checked case by case and against a plain oracle over many days."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbxlens.reports import periods as P

ROME = "Europe/Rome"

CASES = """
# period        | today      | from       | to
yesterday       | 2024-03-01 | 2024-02-29 | 2024-02-29
yesterday       | 2026-01-01 | 2025-12-31 | 2025-12-31
today           | 2026-05-12 | 2026-05-12 | 2026-05-12
last_month      | 2024-03-31 | 2024-02-01 | 2024-02-29
last_month      | 2025-03-31 | 2025-02-01 | 2025-02-28
last_month      | 2026-01-15 | 2025-12-01 | 2025-12-31
last_month      | 2026-05-01 | 2026-04-01 | 2026-04-30
month_to_date   | 2026-05-31 | 2026-05-01 | 2026-05-31
month_to_date   | 2026-05-01 | 2026-05-01 | 2026-05-01
year_to_date    | 2026-01-01 | 2026-01-01 | 2026-01-01
year_to_date    | 2024-12-31 | 2024-01-01 | 2024-12-31
last_year       | 2024-02-29 | 2023-01-01 | 2023-12-31
week_to_date    | 2026-05-10 | 2026-05-04 | 2026-05-10
week_to_date    | 2026-05-11 | 2026-05-11 | 2026-05-11
last_week       | 2026-05-11 | 2026-05-04 | 2026-05-10
last_week       | 2026-05-17 | 2026-05-04 | 2026-05-10
last_week       | 2026-03-30 | 2026-03-23 | 2026-03-29
last_week       | 2026-11-01 | 2026-10-19 | 2026-10-25
last_week       | 2026-01-02 | 2025-12-22 | 2025-12-28
last_7_days     | 2026-03-01 | 2026-02-22 | 2026-02-28
""".strip().splitlines()


@pytest.mark.parametrize("line", [x for x in CASES if not x.startswith("#")])
def test_period_cases(line):
    period, today, d_from, d_to = (x.strip() for x in line.split("|"))
    assert P.resolve(period, date.fromisoformat(today)) == (
        date.fromisoformat(d_from), date.fromisoformat(d_to))


def _naive(period: str, today: date) -> tuple[date, date]:
    """The oracle: days enumerated one by one, no date arithmetic shortcuts."""
    days = [today - timedelta(days=i) for i in range(800)]
    if period == "last_week":
        this_monday = next(d for d in days if d.weekday() == 0)
        week = [d for d in days if d < this_monday][:7]
        return min(week), max(week)
    if period == "last_month":
        first = next(d for d in days if d.day == 1)
        prev = [d for d in days if d < first and (d.year, d.month) == (
            (first - timedelta(days=1)).year, (first - timedelta(days=1)).month)]
        return min(prev), max(prev)
    if period == "month_to_date":
        return min(d for d in days if (d.year, d.month) == (today.year, today.month)), today
    if period == "year_to_date":
        return min(d for d in days if d.year == today.year), today
    raise AssertionError(period)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
       st.sampled_from(["last_week", "last_month", "month_to_date", "year_to_date"]))
def test_periods_match_a_day_by_day_oracle(today, period):
    assert P.resolve(period, today) == _naive(period, today)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_last_month_is_a_whole_month(today):
    d_from, d_to = P.resolve("last_month", today)
    assert d_from.day == 1 and d_to.day == calendar.monthrange(d_to.year, d_to.month)[1]
    assert d_to + timedelta(days=1) == today.replace(day=1)


def test_weeks_across_dst_changes_are_calendar_weeks():
    # the week of the spring change has 167 hours, the autumn one 169, both Monday to Monday
    spring = P.span(*P.resolve("last_week", date(2026, 3, 30)), ROME)
    autumn = P.span(*P.resolve("last_week", date(2026, 10, 26)), ROME)
    assert spring[1] - spring[0] == timedelta(hours=167)
    assert autumn[1] - autumn[0] == timedelta(hours=169)
    assert spring[0] == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)  # Monday 00:00 CET
    assert spring[1] == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # Monday 00:00 CEST


def test_today_is_the_pbx_local_day():
    # 23:30 UTC on 31 March is 1 April in Rome (CEST): "last month" is March there
    instant = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    today = P.local_day(instant, ROME)
    assert today == date(2026, 4, 1)
    assert P.resolve("last_month", today) == (date(2026, 3, 1), date(2026, 3, 31))
    assert P.local_day(instant, "America/New_York") == date(2026, 3, 31)
    with pytest.raises(ValueError):
        P.local_day(datetime(2026, 3, 31, 22, 30), ROME)


def test_unknown_period_is_refused_with_the_choices():
    with pytest.raises(P.PeriodError, match="last_month"):
        P.check("fortnight")
    assert P.check(None) == P.FIXED and P.check("Month-To-Date") == "month_to_date"
    with pytest.raises(P.PeriodError):
        P.resolve("fixed", date(2026, 1, 1))
