"""When a schedule is due: daily, weekly (a weekday) or monthly (a day of the month, or the last
day) at a wall-clock time in the PBX time zone, as aware UTC instants.

The wall clock is what people set ("every Monday at 07:00"), so the instants move by an hour
across a DST change. A time the spring change skips (02:30 on the last Sunday of March in Rome)
is sent when the clock reaches it (03:30); a time the autumn change repeats is sent once, at its
first occurrence. Day 29-31 in a shorter month means that month's last day.

Example:
    >>> r = Recurrence("weekly", time(7, 0), weekday=1)
    >>> next_due(r, datetime(2026, 3, 24, 12, 0, tzinfo=UTC), "Europe/Rome")
    datetime.datetime(2026, 3, 30, 5, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbxlens import PbxlensError

FREQUENCIES = ("daily", "weekly", "monthly")
LAST_DAY = -1
_HORIZON_DAYS = 400  # a monthly rule always matches within a year


class RecurrenceError(PbxlensError):
    """A schedule rule that cannot be followed (unknown frequency, weekday 8, day 0)."""


@dataclass(frozen=True)
class Recurrence:
    frequency: str  # daily | weekly | monthly
    at: time  # PBX-local wall-clock time
    weekday: int | None = None  # weekly: 1 = Monday .. 7 = Sunday
    month_day: int | None = None  # monthly: 1..31, or LAST_DAY

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise RecurrenceError(f"frequency must be one of {', '.join(FREQUENCIES)}, "
                                  f"got {self.frequency!r}")
        if self.frequency == "weekly" and self.weekday not in range(1, 8):
            raise RecurrenceError(f"a weekly schedule needs a weekday 1-7, got {self.weekday!r}")
        if self.frequency == "monthly" and self.month_day not in (*range(1, 32), LAST_DAY):
            raise RecurrenceError(f"a monthly schedule needs a day 1-31 or -1 (the last day), "
                                  f"got {self.month_day!r}")

    def matches(self, day: date) -> bool:
        """Whether the rule fires on the local calendar day `day`.

        Example:
            >>> Recurrence("monthly", time(7), month_day=31).matches(date(2024, 2, 29))
            True
        """
        if self.frequency == "daily":
            return True
        if self.frequency == "weekly":
            return day.isoweekday() == self.weekday
        last = calendar.monthrange(day.year, day.month)[1]
        wanted = last if self.month_day == LAST_DAY else min(self.month_day or 1, last)
        return day.day == wanted


def parse_time(text: str) -> time:
    """`HH:MM` (24 h) as a time; anything else is refused.

    Example:
        >>> parse_time("7:05")
        datetime.time(7, 5)
    """
    try:
        hh, mm = str(text).strip().split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise RecurrenceError(f"a time is HH:MM (24 h), got {text!r}") from None


def local_instant(day: date, at: time, zone: str) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone` (see the module note on DST).

    Examples:
        >>> local_instant(date(2026, 3, 29), time(2, 30), "Europe/Rome")  # skipped: 03:30 CEST
        datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.timezone.utc)
        >>> local_instant(date(2026, 10, 25), time(2, 30), "Europe/Rome")  # repeated: the first
        datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.timezone.utc)
    """
    return datetime.combine(day, at, ZoneInfo(zone)).astimezone(UTC)


def next_due(rule: Recurrence, after: datetime, zone: str) -> datetime:
    """The first due instant strictly after `after` (aware)."""
    day = after.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    for i in range(_HORIZON_DAYS):
        d = day + timedelta(days=i)
        if rule.matches(d):
            at = local_instant(d, rule.at, zone)
            if at > after:
                return at
    raise RecurrenceError(f"no due time within {_HORIZON_DAYS} days")  # pragma: no cover


def last_due(rule: Recurrence, at_or_before: datetime, zone: str) -> datetime:
    """The latest due instant at or before `at_or_before`: a run missed while the server was
    down is one run, for the latest time it was due.

    Example:
        >>> r = Recurrence("daily", time(7))
        >>> last_due(r, datetime(2026, 5, 4, 9, 0, tzinfo=UTC), "Europe/Rome")
        datetime.datetime(2026, 5, 4, 5, 0, tzinfo=datetime.timezone.utc)
    """
    day = at_or_before.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    for i in range(_HORIZON_DAYS):
        d = day - timedelta(days=i)
        if rule.matches(d):
            at = local_instant(d, rule.at, zone)
            if at <= at_or_before:
                return at
    raise RecurrenceError(f"no due time within {_HORIZON_DAYS} days")  # pragma: no cover
