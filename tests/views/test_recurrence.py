"""When schedules are due: wall-clock times in the PBX zone across DST changes, month ends, the
last day, times the clock skips or repeats, and runs missed while nothing ran."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from pbxlens.views.recurrence import (
    LAST_DAY,
    Recurrence,
    RecurrenceError,
    last_due,
    local_instant,
    next_due,
    parse_time,
)

ROME = "Europe/Rome"


def utc(*a) -> datetime:
    return datetime(*a, tzinfo=UTC)


def _series(rule: Recurrence, start: datetime, n: int) -> list[datetime]:
    out, at = [], start
    for _ in range(n):
        at = next_due(rule, at, ROME)
        out.append(at)
    return out


def test_daily_at_seven_keeps_the_wall_clock_across_the_spring_change():
    got = _series(Recurrence("daily", time(7)), utc(2026, 3, 27, 12), 4)
    # 07:00 CET = 06:00 UTC until Saturday 28; 07:00 CEST = 05:00 UTC from Sunday 29
    assert got == [utc(2026, 3, 28, 6), utc(2026, 3, 29, 5), utc(2026, 3, 30, 5),
                   utc(2026, 3, 31, 5)]


def test_weekly_monday_across_the_autumn_change():
    got = _series(Recurrence("weekly", time(7, 30), weekday=1), utc(2026, 10, 20), 2)
    assert got == [utc(2026, 10, 26, 6, 30), utc(2026, 11, 2, 6, 30)]  # CET after the 25th


def test_monthly_day_31_is_the_last_day_of_shorter_months_and_leap_februaries():
    got = _series(Recurrence("monthly", time(6), month_day=31), utc(2024, 1, 1), 4)
    assert [d.date().isoformat() for d in got] == ["2024-01-31", "2024-02-29", "2024-03-31",
                                                   "2024-04-30"]
    last = _series(Recurrence("monthly", time(6), month_day=LAST_DAY), utc(2025, 1, 31, 12), 2)
    assert [d.date().isoformat() for d in last] == ["2025-02-28", "2025-03-31"]


def test_a_skipped_time_runs_when_the_clock_gets_there_and_a_repeated_one_once():
    spring = next_due(Recurrence("daily", time(2, 30)), utc(2026, 3, 28, 12), ROME)
    assert spring == utc(2026, 3, 29, 1, 30)  # 03:30 CEST: one hour after 02:00 CET
    autumn = _series(Recurrence("daily", time(2, 30)), utc(2026, 10, 24, 12), 2)
    assert autumn == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]  # once on the 25th


def test_next_due_is_strictly_after_and_last_due_at_or_before():
    r = Recurrence("daily", time(7))
    at = utc(2026, 5, 4, 5, 0)  # 07:00 in Rome
    assert next_due(r, at, ROME) == utc(2026, 5, 5, 5)
    assert last_due(r, at, ROME) == at
    assert last_due(r, at - timedelta(seconds=1), ROME) == utc(2026, 5, 3, 5)


def test_a_long_downtime_is_one_run_for_the_latest_due_time():
    r = Recurrence("weekly", time(7), weekday=1)
    down_until = utc(2026, 5, 27, 9)  # three Mondays missed
    assert last_due(r, down_until, ROME) == utc(2026, 5, 25, 5)


@pytest.mark.parametrize("kwargs,msg", [
    ({"frequency": "hourly"}, "frequency"),
    ({"frequency": "weekly", "weekday": 8}, "weekday"),
    ({"frequency": "weekly"}, "weekday"),
    ({"frequency": "monthly", "month_day": 0}, "day"),
])
def test_bad_rules_are_refused(kwargs, msg):
    with pytest.raises(RecurrenceError, match=msg):
        Recurrence(at=time(7), **kwargs)


def test_times_are_hh_mm():
    assert parse_time("07:05") == time(7, 5)
    for bad in ("7", "25:00", "ab:cd", ""):
        with pytest.raises(RecurrenceError):
            parse_time(bad)
    assert local_instant(datetime(2026, 1, 1).date(), time(0), "UTC") == utc(2026, 1, 1)
