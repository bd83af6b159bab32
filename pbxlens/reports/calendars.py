"""Business-hours calendars: weekly opening hours, the national holidays of the `holidays`
package (Italy by default; a province `subdiv` adds its patron saint), local yearly holidays and
one-off closures; assigned to a queue, or to a tenant (qkey '').

The report filter `hours` (within / outside opening hours) is one `FilterDef` that every CDR
and Call Center report declares; `hours_where()` turns it into set-based SQL for the report's
grain: the calendar is expanded into open intervals per day of the range, each bound a PBX-local
wall-clock time converted to an instant (`timezone(tz, day + minutes)`, so a DST change day has
its real length), and a fact is within hours when its instant falls in [open, close) of its
calendar (the queue's, else the tenant's) on that day, joined by range. A fact with no calendar
at all is within hours (a PBX that declared none is always open).

Which instant: the call's start for every CDR grain (the instant that places it in a day,
C22); a Call Center queue call's entry into the queue (its arrival, although the report places
it by its end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import FilterDef
from pbxlens.store import schema as S

HOLIDAY_YEARS = range(2000, 2061)  # the copy's horizon of yearly holidays

HOURS = FilterDef(
    "hours", "Opening hours", "Orario di apertura",
    options=flt.FixedOptions((("open", "Within opening hours", "Entro l'orario di apertura"),
                              ("closed", "Outside opening hours", "Fuori orario"))),
    doc="open (within the opening hours of the queue's calendar, else the tenant's) or closed "
        "(outside them: nights, weekends, holidays, closures); both or none: every call. The "
        "instant is the call's start (Call Center: the entry into the queue); a call with no "
        "calendar is within hours.")


class CalendarError(PbxlensError):
    status = 400


# ----------------------------------------------------------------------------- pure parts

_DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
         "lun": 1, "mar": 2, "mer": 3, "gio": 4, "ven": 5, "sab": 6, "dom": 7}
_DAY_NAMES = ("", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _day(token: str) -> int:
    t = token.strip().lower()[:3]
    if t.isdigit() and 1 <= int(t) <= 7:
        return int(t)
    if t in _DAYS:
        return _DAYS[t]
    raise CalendarError(f"not a weekday: {token!r} (mon..sun, lun..dom or 1..7)")


def _minutes(h: str, m: str) -> int:
    v = int(h) * 60 + int(m)
    if int(m) > 59 or v > 1440:
        raise CalendarError(f"not a time of day: {h}:{m}")
    return v


def parse_hours(text: str) -> list[tuple[int, int, int]]:
    """Weekly opening hours from text: `DAYS HH:MM-HH:MM[ HH:MM-HH:MM ...]` groups separated by
    `;` or new lines; DAYS is a day, a range or a comma list (mon..sun, lun..dom, 1..7).
    Returns (isodow, open minute, close minute) with the close exclusive (24:00 = 1440).

    Example:
        >>> parse_hours("mon-fri 08:30-13:00 14:00-18:00; sab 09:00-12:00")[:2]
        [(1, 510, 780), (1, 840, 1080)]
        >>> len(parse_hours("lun-ven 8:30-13:00 14:00-18:00; sab 9:00-12:00"))
        11
    """
    out: list[tuple[int, int, int]] = []
    for group in re.split(r"[;\n]+", text or ""):
        parts = group.split()
        if not parts:
            continue
        days: list[int] = []
        for item in parts[0].split(","):
            a, _, b = item.partition("-")
            lo, hi = _day(a), _day(b) if b else _day(a)
            if hi < lo:
                raise CalendarError(f"weekday range backwards: {item!r}")
            days += range(lo, hi + 1)
        if len(parts) == 1:
            raise CalendarError(f"{group.strip()!r}: no opening hours after the days")
        for span in parts[1:]:
            m = _SPAN.match(span)
            if not m:
                raise CalendarError(f"not an opening span HH:MM-HH:MM: {span!r}")
            o, c = _minutes(m[1], m[2]), _minutes(m[3], m[4])
            if o >= c:
                raise CalendarError(f"{span}: the closing time must follow the opening time")
            out += [(d, o, c) for d in days]
    out.sort()
    for (d1, _o1, c1), (d2, o2, _c2) in pairwise(out):
        if d1 == d2 and o2 < c1:
            raise CalendarError(f"overlapping opening spans on {_DAY_NAMES[d1]}")
    return out


def format_hours(hours: list[tuple[int, int, int]]) -> str:
    """The text form of weekly hours (days with the same spans grouped).

    Example:
        >>> format_hours(parse_hours("1-5 08:00-18:00; 6 09:00-12:00"))
        'mon-fri 08:00-18:00; sat 09:00-12:00'
    """
    by_day: dict[int, list[str]] = {}
    for d, o, c in sorted(hours):
        by_day.setdefault(d, []).append(f"{o // 60:02d}:{o % 60:02d}-{c // 60:02d}:{c % 60:02d}")
    groups: list[tuple[list[int], list[str]]] = []
    for d in sorted(by_day):
        if groups and groups[-1][1] == by_day[d] and groups[-1][0][-1] == d - 1:
            groups[-1][0].append(d)
        else:
            groups.append(([d], by_day[d]))
    return "; ".join((_DAY_NAMES[ds[0]] if len(ds) == 1 else
                      f"{_DAY_NAMES[ds[0]]}-{_DAY_NAMES[ds[-1]]}") + " " + " ".join(spans)
                     for ds, spans in groups)


@dataclass
class Calendar:
    """A calendar with its weekly hours and its days (as stored)."""

    id: int
    tenant: str
    name: str
    country: str = "IT"
    subdiv: str | None = None
    hours: list[tuple[int, int, int]] = field(default_factory=list)
    holidays: list[tuple[int, int, str]] = field(default_factory=list)   # (month, day, name)
    closures: list[tuple[date, date, str]] = field(default_factory=list)  # (from, to, name)
    day_ids: dict[tuple, int] = field(default_factory=dict)  # holiday/closure -> row id

    def closed_days(self, years) -> dict[date, str]:
        """Every closed day of `years`: the package's holidays, the local ones, the closures.

        Example:
            >>> cal = Calendar(1, "default", "Milano", subdiv="MI", holidays=[(6, 24, "x")],
            ...                closures=[(date(2026, 8, 10), date(2026, 8, 11), "ferie")])
            >>> days = cal.closed_days([2026])
            >>> [days[date(2026, m, d)] for m, d in ((12, 7), (6, 24), (8, 11), (4, 6))]
            ["Saint Ambrose's Day", 'x', 'ferie', 'Easter Monday']
        """
        out: dict[date, str] = {}
        if self.country:
            import holidays

            try:
                out.update(holidays.country_holidays(self.country, subdiv=self.subdiv or None,
                                                     years=list(years)))
            except NotImplementedError as exc:
                raise CalendarError(f"unknown country or province: {exc}") from None
        for y in years:
            for m, d, name in self.holidays:
                try:
                    out[date(y, m, d)] = name
                except ValueError:  # 29 February of a common year
                    continue
        ys = set(years)
        for lo, hi, name in self.closures:
            d = lo
            while d <= hi:
                if d.year in ys:
                    out[d] = name
                d += timedelta(days=1)
        return out

    def is_open(self, instant: datetime, tz: str | None = None) -> bool:
        """Whether the calendar is open at `instant` (aware), in the PBX's time zone: the plain
        Python form of the SQL the reports run (tests compare the two).

        Example:
            >>> cal = Calendar(1, "default", "x", hours=parse_hours("mon-fri 08:00-18:00"))
            >>> rome = ZoneInfo("Europe/Rome")
            >>> cal.is_open(datetime(2026, 3, 30, 8, 0, tzinfo=rome), "Europe/Rome")
            True
            >>> cal.is_open(datetime(2026, 4, 6, 9, 0, tzinfo=rome), "Europe/Rome")  # Easter Mon.
            False
        """
        local = instant.astimezone(ZoneInfo(tz or get_settings().timezone))
        day = local.date()
        if day in self.closed_days([day.year]):
            return False
        mod = local.hour * 60 + local.minute + local.second / 60
        return any(d == day.isoweekday() and o <= mod < c for d, o, c in self.hours)


# ----------------------------------------------------------------------------- the store


def _load(c: sa.Connection, rows) -> list[Calendar]:
    cals = {r.id: Calendar(r.id, r.tenant, r.name, r.country, r.subdiv) for r in rows}
    if not cals:
        return []
    h, d = S.calendar_hours, S.calendar_days
    for r in c.execute(sa.select(h).where(h.c.calendar_id.in_(list(cals)))
                       .order_by(h.c.isodow, h.c.open_min)).all():
        cals[r.calendar_id].hours.append((r.isodow, r.open_min, r.close_min))
    for r in c.execute(sa.select(d).where(d.c.calendar_id.in_(list(cals)))
                       .order_by(d.c.id)).all():
        cal = cals[r.calendar_id]
        if r.kind == "holiday":
            item = (r.month, r.day, r.name)
            cal.holidays.append(item)
        else:
            item = (r.day_from, r.day_to, r.name)
            cal.closures.append(item)
        cal.day_ids[item] = r.id
    return list(cals.values())


def list_calendars(stores, tenant: str) -> list[Calendar]:
    t = S.calendars
    with stores.ops_read() as c:
        return _load(c, c.execute(sa.select(t).where(t.c.tenant == tenant)
                                  .order_by(t.c.name)).all())


def get_calendar(stores, tenant: str, name_or_id: str | int) -> Calendar:
    t = S.calendars
    key = str(name_or_id)
    cond = t.c.name == key
    if key.isdigit():
        cond = sa.or_(cond, t.c.id == int(key))
    with stores.ops_read() as c:
        cals = _load(c, c.execute(sa.select(t).where(t.c.tenant == tenant, cond)).all())
    if not cals:
        raise CalendarError(f"no calendar {name_or_id!r}")
    return cals[0]


def _check_country(country: str, subdiv: str | None) -> None:
    Calendar(0, "", "", country, subdiv).closed_days([2026])


def save_calendar(stores, tenant: str, name: str, *, hours: list[tuple[int, int, int]],
                  country: str = "IT", subdiv: str | None = None,
                  calendar_id: int | None = None) -> Calendar:
    """Create a calendar, or replace the name, country and weekly hours of `calendar_id`."""
    name = (name or "").strip()
    if not name:
        raise CalendarError("a calendar needs a name")
    country = (country or "").strip().upper()
    subdiv = (subdiv or "").strip().upper() or None
    _check_country(country, subdiv)
    t, h = S.calendars, S.calendar_hours
    values = {"tenant": tenant, "name": name, "country": country, "subdiv": subdiv,
              "updated_at": datetime.now(UTC)}
    try:
        with stores.ops_write() as c:
            if calendar_id is None:
                calendar_id = c.execute(t.insert().values(**values).returning(t.c.id)
                                        ).scalar_one()
            elif not c.execute(t.update().where(t.c.id == calendar_id, t.c.tenant == tenant)
                               .values(**values)).rowcount:
                raise CalendarError(f"no calendar {calendar_id}")
            c.execute(h.delete().where(h.c.calendar_id == calendar_id))
            if hours:
                c.execute(h.insert(), [{"calendar_id": calendar_id, "isodow": d, "open_min": o,
                                        "close_min": cl} for d, o, cl in hours])
    except sa.exc.IntegrityError:
        raise CalendarError(f"a calendar named {name!r} exists already") from None
    _refresh(stores)
    return get_calendar(stores, tenant, calendar_id)


def add_holiday(stores, tenant: str, calendar: str | int, month: int, day: int,
                name: str = "") -> Calendar:
    """A local holiday every year (the patron saint of a town outside the package's list)."""
    try:
        date(2000, int(month), int(day))  # 2000 is a leap year: 29/02 is a valid holiday
    except ValueError:
        raise CalendarError(f"not a day of the year: {day}/{month}") from None
    cal = get_calendar(stores, tenant, calendar)
    with stores.ops_write() as c:
        c.execute(S.calendar_days.insert().values(calendar_id=cal.id, kind="holiday",
                                                  name=name or "", month=int(month),
                                                  day=int(day)))
    _refresh(stores)
    return get_calendar(stores, tenant, cal.id)


def add_closure(stores, tenant: str, calendar: str | int, day_from: date,
                day_to: date | None = None, name: str = "") -> Calendar:
    """A one-off closure of whole days, both inclusive."""
    day_to = day_to or day_from
    if day_to < day_from:
        raise CalendarError("a closure ends after it starts")
    if (day_to - day_from).days > 366:
        raise CalendarError("a closure is at most a year long")
    cal = get_calendar(stores, tenant, calendar)
    with stores.ops_write() as c:
        c.execute(S.calendar_days.insert().values(calendar_id=cal.id, kind="closure",
                                                  name=name or "", day_from=day_from,
                                                  day_to=day_to))
    _refresh(stores)
    return get_calendar(stores, tenant, cal.id)


def remove_day(stores, tenant: str, calendar: str | int, day_id: int) -> Calendar:
    cal = get_calendar(stores, tenant, calendar)
    d = S.calendar_days
    with stores.ops_write() as c:
        c.execute(d.delete().where(d.c.id == int(day_id), d.c.calendar_id == cal.id))
    _refresh(stores)
    return get_calendar(stores, tenant, cal.id)


def delete_calendar(stores, tenant: str, calendar: str | int) -> None:
    cal = get_calendar(stores, tenant, calendar)
    with stores.ops_write() as c:
        for t in (S.calendar_hours, S.calendar_days, S.calendar_assignments):
            c.execute(t.delete().where(t.c.calendar_id == cal.id))
        c.execute(S.calendars.delete().where(S.calendars.c.id == cal.id))
    _refresh(stores)


def assign(stores, tenant: str, qkey: str, calendar: str | int | None) -> None:
    """The calendar of a queue (qkey '' = the tenant's); None removes the assignment."""
    a = S.calendar_assignments
    qkey = (qkey or "").strip()
    cal_id = None if calendar is None else get_calendar(stores, tenant, calendar).id
    from pbxlens.store import ops

    with stores.ops_write() as c:
        if cal_id is None:
            c.execute(a.delete().where(a.c.tenant == tenant, a.c.qkey == qkey))
        else:
            ops.upsert(c, a, {"tenant": tenant, "qkey": qkey, "calendar_id": cal_id},
                       ["tenant", "qkey"], ["calendar_id"])
    _refresh(stores)


def assignments(stores, tenant: str) -> dict[str, int]:
    """qkey ('' = the tenant) -> calendar id."""
    a = S.calendar_assignments
    with stores.ops_read() as c:
        return {r.qkey: r.calendar_id for r in c.execute(
            sa.select(a).where(a.c.tenant == tenant)).all()}


def _refresh(stores) -> None:
    from pbxlens.reports import definitions

    definitions.refresh(stores)


def analytics_rows(c: sa.Connection) -> dict[str, list[tuple]]:
    """The rows of the DuckDB copies (calendar_hours, calendar_closed_days expanded over
    HOLIDAY_YEARS, calendar_assignments) from the operations store."""
    cals = _load(c, c.execute(sa.select(S.calendars)).all())
    hours, closed = [], []
    for cal in cals:
        hours += [(cal.tenant, cal.id, d, o, cl) for d, o, cl in cal.hours]
        closed += [(cal.tenant, cal.id, d, name or "")
                   for d, name in sorted(cal.closed_days(HOLIDAY_YEARS).items())]
    a = S.calendar_assignments
    assigned = [(r.tenant, r.qkey, r.calendar_id) for r in c.execute(sa.select(a)).all()]
    return {"calendar_hours": hours, "calendar_closed_days": closed,
            "calendar_assignments": assigned}


# ----------------------------------------------------------------------------- report SQL

# The open intervals [lo, hi) of every calendar on every day of a range: weekly hours minus
# closed days, each bound the PBX-local wall clock of that day made an instant. A wall-clock
# time shown twice (the hour repeated when DST ends) opens at its first instant and closes at
# its last one, so that an interval spans every instant whose clock reads inside it: DuckDB's
# `timezone()` picks one of the two, and the time an hour earlier plus an hour is the other
# (zones shift by one hour).
_AT = ("{f}(timezone(?, d.day + to_minutes(CAST(h.{c} AS BIGINT))), "
       "timezone(?, d.day + to_minutes(CAST(h.{c} AS BIGINT) - 60)) + INTERVAL 1 HOUR)")
OPEN_SQL = f"""SELECT h.tenant, h.calendar_id, d.day,
    {_AT.format(f="least", c="open_min")} AS lo,
    {_AT.format(f="greatest", c="close_min")} AS hi
  FROM (SELECT CAST(range AS DATE) AS day FROM range(CAST(? AS DATE),
        CAST(? AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY)) d
  JOIN calendar_hours h ON h.isodow = isodow(d.day)
  WHERE NOT EXISTS (SELECT 1 FROM calendar_closed_days x
                    WHERE x.calendar_id = h.calendar_id AND x.day = d.day)"""  # noqa: S608 -- names and SQL fragments from code; values bound


def open_intervals(d_from: date, d_to: date) -> tuple[str, list]:
    tz = get_settings().timezone
    return OPEN_SQL, [tz, tz, tz, tz, d_from.isoformat(), d_to.isoformat()]


def calendar_of(alias: str, qkey: str | None) -> str:
    """SQL: the calendar id of a fact of `alias` (its queue's, else its tenant's; NULL when
    neither has one)."""
    tenant = ("(SELECT a.calendar_id FROM calendar_assignments a "  # noqa: S608 -- names and SQL fragments from code; values bound
              f"WHERE a.tenant = {alias}.tenant AND a.qkey = '')")
    if qkey is None:
        return tenant
    return ("coalesce((SELECT a.calendar_id FROM calendar_assignments a "  # noqa: S608 -- names and SQL fragments from code; values bound
            f"WHERE a.tenant = {alias}.tenant AND a.qkey = {qkey}), {tenant})")


@dataclass(frozen=True)
class Clock:
    """How a report's fact rows find their instant and calendar: `alias` of the fact table;
    `instant` a TIMESTAMPTZ expression of the row, or None for a CDR fact keyed by (tenant,
    unique_id, leg_branch) whose instant is its call's start; `qkey` the expression of the
    fact's queue (None: the tenant's calendar only)."""

    alias: str
    instant: str | None = None
    qkey: str | None = None


def hours_choice(p: flt.Params) -> str | None:
    """'open', 'closed' or None (no restriction) from the `hours` filter."""
    vals = {v.strip().lower() for v in p.values("hours")}
    bad = vals - {"open", "closed"}
    if bad:
        raise CalendarError(f"--filter hours: expected open or closed, got {sorted(bad)[0]!r}")
    return next(iter(vals)) if len(vals) == 1 else None


def hours_clause(clock: Clock, choice: str, d_from: date, d_to: date) -> tuple[str, list]:
    """The SQL predicate (and its arguments) that keeps the facts within (`open`) or outside
    (`closed`) the opening hours of their calendar."""
    a = clock.alias
    cal = calendar_of(a, clock.qkey)
    if clock.instant is None:  # CDR facts: the start of their call, a semi-join by key
        iv, iv_args = open_intervals(d_from, d_to)
        inside = (f"({a}.tenant, {a}.unique_id, {a}.leg_branch, {cal}) IN ("  # noqa: S608 -- names and SQL fragments from code; values bound
                  "SELECT c.tenant, c.unique_id, c.leg_branch, o.calendar_id FROM calls c "
                  f"JOIN ({iv}) o ON o.tenant = c.tenant AND o.day = CAST(c.start_local AS DATE)"
                  " AND c.start_ts >= o.lo AND c.start_ts < o.hi "
                  "WHERE c.start_local >= CAST(? AS DATE) "
                  "AND c.start_local < CAST(? AS DATE) + INTERVAL 1 DAY)")
        args = [*iv_args, d_from.isoformat(), d_to.isoformat()]
    else:  # facts that carry their instant (may be a day off the report's day)
        iv, args = open_intervals(d_from - timedelta(days=1), d_to + timedelta(days=1))
        inside = (f"EXISTS (SELECT 1 FROM ({iv}) o WHERE o.tenant = {a}.tenant "  # noqa: S608 -- names and SQL fragments from code; values bound
                  f"AND o.calendar_id = {cal} AND {clock.instant} >= o.lo "
                  f"AND {clock.instant} < o.hi)")
    if choice == "open":
        return f"({cal} IS NULL OR {inside})", args
    return f"({cal} IS NOT NULL AND NOT {inside})", args


def hours_where(w: flt.Where, p: flt.Params, clock: Clock, d_from: date, d_to: date) -> None:
    """Add the `hours` filter of `p` (if any) to `w`."""
    choice = hours_choice(p)
    if choice is not None:
        sql, args = hours_clause(clock, choice, d_from, d_to)
        w.add(sql, *args)
