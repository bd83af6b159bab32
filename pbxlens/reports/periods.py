"""Relative periods of saved views and schedules ("yesterday", "last week", "month to date"):
calendar days in the PBX time zone, resolved against a day, never against a count of hours.

A period is a pair of PBX-local calendar days, both inclusive, like `Params.date_from/date_to`;
the report turns them into instants with the zone (`span`), so a week across a DST change is
167 or 169 hours long and still Monday 00:00 to Monday 00:00. "Today" is the PBX-local date of
an instant (`local_day`): at 00:30 in Rome on 1 June it is June, though UTC still says May.

Example:
    >>> resolve("last_month", date(2024, 3, 15))
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbxlens import PbxlensError

FIXED = "fixed"
# The relative periods, in the order pages offer them.
PERIODS = ("today", "yesterday", "week_to_date", "last_week", "last_7_days", "month_to_date",
           "last_month", "year_to_date", "last_year")
# en/it labels (the catalog of the web app reads them through `label`).
LABELS = {
    FIXED: ("Fixed range", "Intervallo fisso"),
    "today": ("Today", "Oggi"),
    "yesterday": ("Yesterday", "Ieri"),
    "week_to_date": ("This week to date", "Settimana in corso"),
    "last_week": ("Last week", "Settimana scorsa"),
    "last_7_days": ("Last 7 days", "Ultimi 7 giorni"),
    "month_to_date": ("Month to date", "Mese in corso"),
    "last_month": ("Last month", "Mese scorso"),
    "year_to_date": ("Year to date", "Anno in corso"),
    "last_year": ("Last year", "Anno scorso"),
}


class PeriodError(PbxlensError):
    """An unknown period name."""


def label(period: str, lang: str = "en") -> str:
    en, it = LABELS.get(period, (period, period))
    return it if lang == "it" else en


def check(period: str | None) -> str:
    """A known period name (`fixed` included), normalized; anything else is refused.

    Example:
        >>> check(" Last-Month ")
        'last_month'
    """
    p = (period or FIXED).strip().lower().replace("-", "_").replace(" ", "_")
    if p != FIXED and p not in PERIODS:
        raise PeriodError(f"unknown period {period!r}; choose from {', '.join((FIXED, *PERIODS))}")
    return p


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _previous_month(d: date) -> tuple[date, date]:
    last = _month_start(d) - timedelta(days=1)
    return _month_start(last), last


def resolve(period: str, today: date) -> tuple[date, date]:
    """The first and last day (inclusive) of `period` seen from the PBX-local day `today`.
    Weeks start on Monday (ISO, as the PBX's own week reports do).

    Examples:
        >>> resolve("yesterday", date(2024, 3, 1))
        (datetime.date(2024, 2, 29), datetime.date(2024, 2, 29))
        >>> resolve("last_week", date(2026, 3, 30))   # Monday after the spring DST change
        (datetime.date(2026, 3, 23), datetime.date(2026, 3, 29))
        >>> resolve("month_to_date", date(2026, 1, 1))
        (datetime.date(2026, 1, 1), datetime.date(2026, 1, 1))
        >>> resolve("last_month", date(2026, 1, 10))
        (datetime.date(2025, 12, 1), datetime.date(2025, 12, 31))
    """
    p = check(period)
    if p == "today":
        return today, today
    if p == "yesterday":
        y = today - timedelta(days=1)
        return y, y
    monday = today - timedelta(days=today.weekday())
    if p == "week_to_date":
        return monday, today
    if p == "last_week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if p == "last_7_days":
        return today - timedelta(days=7), today - timedelta(days=1)
    if p == "month_to_date":
        return _month_start(today), today
    if p == "last_month":
        return _previous_month(today)
    if p == "year_to_date":
        return date(today.year, 1, 1), today
    if p == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    raise PeriodError("a fixed range has no relative days: give from and to")


def local_day(instant: datetime, zone: str) -> date:
    """The PBX-local calendar day of an aware instant.

    Example:
        >>> local_day(datetime(2026, 5, 31, 22, 30, tzinfo=UTC), "Europe/Rome")
        datetime.date(2026, 6, 1)
    """
    if instant.tzinfo is None:
        raise ValueError(f"naive datetime {instant!r}: pass an aware instant")
    return instant.astimezone(ZoneInfo(zone)).date()


def span(d_from: date, d_to: date, zone: str) -> tuple[datetime, datetime]:
    """[first day 00:00, day after the last 00:00) in `zone`, as UTC instants (aware datetimes
    that share one ZoneInfo subtract as wall clocks, ignoring the DST change between them).

    Example:
        >>> a, b = span(date(2026, 3, 23), date(2026, 3, 29), "Europe/Rome")
        >>> (b - a).total_seconds() / 3600   # the week of the spring change has 167 hours
        167.0
    """
    tz = ZoneInfo(zone)
    lo = datetime.combine(d_from, time(0), tz)
    hi = datetime.combine(d_to + timedelta(days=1), time(0), tz)
    return lo.astimezone(UTC), hi.astimezone(UTC)
