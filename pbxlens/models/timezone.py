"""PBX wall-clock time -> instants, as SQL built from the zone's own transitions.

The PBX exports local wall-clock times. Converting each value through ICU is the slowest step
of an ingest, and ICU silently picks one side of the autumn fold. Instead this module reads the
zone's transitions (zoneinfo) for the years at hand and writes a CASE over them: a few
comparisons per value, and an explicit rule for the gap and the fold:

- spring gap (02:30 does not exist): read with the offset before the change, as ICU does;
- autumn fold (02:30 happens twice): the later, standard-time instant by default; the call's
  unique_id (epoch of the start, UTC) picks the earlier one when it says so.

Example:
    >>> from datetime import datetime
    >>> [t.local_break.isoformat() for t in transitions("Europe/Rome", 2026, 2026)]
    ['2026-03-29T03:00:00', '2026-10-25T02:00:00']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Transition:
    utc: datetime            # the instant of the change (naive UTC)
    before: int              # offset in seconds before
    after: int               # offset in seconds after
    local_break: datetime    # first local wall time read with `after` (= utc + after)

    @property
    def fold_seconds(self) -> int:
        """Length of the repeated local interval (autumn), 0 for a spring gap."""
        return max(0, self.before - self.after)


def transitions(tz: str, year_from: int, year_to: int) -> list[Transition]:
    zone = ZoneInfo(tz)
    out: list[Transition] = []
    start = datetime(year_from, 1, 1, tzinfo=UTC)
    end = datetime(year_to + 1, 1, 1, tzinfo=UTC)

    def offset(t: datetime) -> int:
        return int(t.astimezone(zone).utcoffset().total_seconds())

    day = start
    prev = offset(day)
    while day < end:
        nxt = day + timedelta(days=1)
        cur = offset(nxt)
        if cur != prev:
            lo, hi = day, nxt  # offset(lo) == prev, offset(hi) == cur: find the first second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if offset(mid) == prev:
                    lo = mid
                else:
                    hi = mid
            utc = hi.replace(tzinfo=None, microsecond=0)
            out.append(Transition(utc, prev, cur, utc + timedelta(seconds=cur)))
            prev = cur
        day = nxt
    return out


def base_offset(tz: str, year: int) -> int:
    t = datetime(year, 1, 1, tzinfo=UTC).astimezone(ZoneInfo(tz))
    return int(t.utcoffset().total_seconds())


def _lit(t: datetime) -> str:
    return f"TIMESTAMP '{t.isoformat(sep=' ')}'"


def _range(expr: str, year_from: int, year_to: int) -> str:
    return (f"{expr} >= {_lit(datetime(year_from, 1, 1))} AND "
            f"{expr} < {_lit(datetime(year_to + 1, 1, 1))}")


def utc_sql(expr: str, tz: str, year_from: int, year_to: int) -> str:
    """SQL turning the naive local TIMESTAMP `expr` into a TIMESTAMPTZ instant.

    Values inside [year_from, year_to] take the transition CASE; any other value (a stray date
    in an export) still converts correctly, through ICU.
    """
    zone = ZoneInfo(tz).key  # raises for an unknown zone: the literal below is a valid name
    steps = transitions(tz, year_from, year_to)
    offset = base_offset(tz, year_from)
    parts = []
    for t in steps:
        parts.append(f"WHEN {expr} < {_lit(t.local_break)} THEN {offset}")
        offset = t.after
    shift = f"CASE {' '.join(parts)} ELSE {offset} END" if parts else str(offset)
    return (f"CASE WHEN {_range(expr, year_from, year_to)}"
            f" THEN to_timestamp(epoch({expr}) - {shift})"
            f" ELSE timezone('{zone}', {expr}) END")


def fold_sql(expr: str, tz: str, year_from: int, year_to: int) -> str:
    """SQL: seconds by which `expr` (naive local) could be earlier, i.e. the fold length when
    the wall time is ambiguous, else 0."""
    folds = [t for t in transitions(tz, year_from, year_to) if t.fold_seconds]
    if not folds:
        return "0"
    parts = [
        f"WHEN {expr} >= {_lit(t.local_break)} AND {expr} < "
        f"{_lit(t.local_break + timedelta(seconds=t.fold_seconds))} THEN {t.fold_seconds}"
        for t in folds
    ]
    return f"CASE {' '.join(parts)} ELSE 0 END"
