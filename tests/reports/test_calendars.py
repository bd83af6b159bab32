"""Business-hours calendars: the holidays package and local days, DST change days, per-queue
and tenant calendars, and the `hours` filter of the reports against the plain-Python rule
(`Calendar.is_open`) on hand-made calls, on both operations-store back-ends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, all_reports, calendars, run
from pbxlens.reports.calendars import Calendar, CalendarError, parse_hours
from pbxlens.store import Stores
from tests import templates

from .conftest import CdrBuilder, q

ROME = ZoneInfo("Europe/Rome")


# ----------------------------------------------------------------------------- pure parts

def test_parse_hours_rejects_what_it_cannot_read():
    assert parse_hours("sun 00:00-24:00") == [(7, 0, 1440)]
    for bad in ("mon", "xyz 08:00-09:00", "mon 09:00-08:00", "mon 08:00-25:00",
                "mon 08:00-12:00 11:00-13:00", "fri-mon 08:00-09:00", "mon 8-9"):
        with pytest.raises(CalendarError):
            parse_hours(bad)


def test_closed_days_from_the_package_the_province_and_local_days():
    plain = Calendar(1, "default", "Italia")
    milano = Calendar(2, "default", "Milano", subdiv="MI", holidays=[(6, 24, "San Giovanni")],
                      closures=[(date(2026, 12, 31), date(2027, 1, 2), "inventario")])
    days = plain.closed_days([2026])
    assert date(2026, 4, 6) in days and date(2026, 6, 2) in days  # Easter Monday, Republic
    assert date(2026, 12, 7) not in days and date(2026, 6, 24) not in days
    mdays = milano.closed_days([2026, 2027])
    assert {date(2026, 12, 7), date(2026, 6, 24), date(2027, 6, 24), date(2026, 12, 31),
            date(2027, 1, 2)} <= set(mdays)
    with pytest.raises(CalendarError):
        Calendar(3, "default", "x", country="ZZ").closed_days([2026])


def test_is_open_on_dst_change_days():
    cal = Calendar(1, "default", "x", country="", hours=parse_hours("1-7 08:00-18:00"))
    utc = ZoneInfo("UTC")
    # 29/03/2026: clocks go 02:00 -> 03:00; 08:00 local is 06:00 UTC
    assert not cal.is_open(datetime(2026, 3, 29, 5, 59, 59, tzinfo=utc), "Europe/Rome")
    assert cal.is_open(datetime(2026, 3, 29, 6, 0, tzinfo=utc), "Europe/Rome")
    assert cal.is_open(datetime(2026, 3, 29, 15, 59, tzinfo=utc), "Europe/Rome")
    assert not cal.is_open(datetime(2026, 3, 29, 16, 0, tzinfo=utc), "Europe/Rome")
    # 25/10/2026: 03:00 -> 02:00; 08:00 local is 07:00 UTC
    assert not cal.is_open(datetime(2026, 10, 25, 6, 59, tzinfo=utc), "Europe/Rome")
    assert cal.is_open(datetime(2026, 10, 25, 7, 0, tzinfo=utc), "Europe/Rome")


# ----------------------------------------------------------------------------- the store

@pytest.fixture
def two_stores(tmp_path, ops_url, request):
    templates.migrated(tmp_path / "store.duckdb", ops_url, request)
    s = Stores(tmp_path / "store.duckdb", ops_url)
    yield s
    s.close()


def test_open_intervals_have_the_real_length_of_dst_days(two_stores):
    s = two_stores
    cal = calendars.save_calendar(s, "default", "always", hours=parse_hours("1-7 00:00-24:00"),
                                  country="")
    with s.cursor() as cur:
        sql, args = calendars.open_intervals(date(2026, 3, 28), date(2026, 3, 30))
        got = cur.execute(f"SELECT day, epoch(hi) - epoch(lo) FROM ({sql}) WHERE calendar_id = ?"
                          " ORDER BY day", [*args, cal.id]).fetchall()
        assert [h / 3600 for _d, h in got] == [24, 23, 24]
        sql, args = calendars.open_intervals(date(2026, 10, 25), date(2026, 10, 25))
        assert cur.execute(f"SELECT epoch(hi) - epoch(lo) FROM ({sql})", args
                           ).fetchone()[0] == 25 * 3600


def test_calendars_in_the_operations_store(two_stores):
    s = two_stores
    c = calendars.save_calendar(s, "default", "Sede", hours=parse_hours("mon-fri 09:00-18:00"),
                                subdiv="mi")
    assert (c.country, c.subdiv, len(c.hours)) == ("IT", "MI", 5)
    with pytest.raises(CalendarError):
        calendars.save_calendar(s, "default", "Sede", hours=[])
    c = calendars.add_holiday(s, "default", "Sede", 6, 24, "San Giovanni")
    c = calendars.add_closure(s, "default", c.id, date(2026, 8, 10), date(2026, 8, 14), "ferie")
    assert c.holidays == [(6, 24, "San Giovanni")] and len(c.closures) == 1
    with pytest.raises(CalendarError):
        calendars.add_holiday(s, "default", "Sede", 2, 30)
    calendars.assign(s, "default", "", "Sede")
    calendars.assign(s, "default", "800", c.id)
    assert calendars.assignments(s, "default") == {"": c.id, "800": c.id}
    with s.cursor() as cur:
        n = cur.execute("SELECT count(*) FROM calendar_closed_days WHERE day IN "
                        "('2026-12-07', '2026-06-24', '2026-08-12', '2026-01-01')").fetchone()
        assert n[0] == 4
        assert cur.execute("SELECT count(*) FROM calendar_assignments").fetchone()[0] == 2
    hol_id = c.day_ids[(6, 24, "San Giovanni")]
    c = calendars.remove_day(s, "default", "Sede", hol_id)
    assert c.holidays == []
    c = calendars.save_calendar(s, "default", "Sede 2", hours=parse_hours("sat 09:00-12:00"),
                                calendar_id=c.id)
    assert calendars.get_calendar(s, "default", "Sede 2").hours == [(6, 540, 720)]
    calendars.delete_calendar(s, "default", c.id)
    assert calendars.list_calendars(s, "default") == []
    assert calendars.assignments(s, "default") == {}


# ----------------------------------------------------------------------------- the filter

# (local start, queue) of hand-made calls: DST days, holidays, hour borders
CALLS = [
    ("2026-03-29 07:59:30", "800"), ("2026-03-29 08:00:30", "800"),
    ("2026-03-29 17:59:30", "800"), ("2026-03-29 18:00:30", "800"),
    ("2026-03-30 08:59:59", "800"), ("2026-03-30 09:00:00", "801"),
    ("2026-03-30 12:30:00", "801"), ("2026-03-30 17:00:00", "801"),
    ("2026-04-06 10:00:00", "800"), ("2026-04-06 10:00:00", "801"),  # Easter Monday
    ("2026-04-07 10:00:00", "801"),
    ("2026-06-24 10:00:00", "800"), ("2026-06-24 10:00:00", "801"),  # local holiday (801)
    ("2026-10-25 02:30:00", "801"), ("2026-10-25 08:00:00", "800"),  # autumn change day
    ("2026-12-07 11:00:00", "800"), ("2026-12-07 11:00:00", "801"),  # Sant'Ambrogio (MI)
]


def _hand_calls() -> CdrBuilder:
    b = CdrBuilder()
    for start, qid in CALLS:
        t = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
        end = (t + timedelta(seconds=20)).strftime("%Y-%m-%d %H:%M:%S")
        b.call(start, end, [q(start, end, "CANCELED", qid=qid, name=f"Q{qid}")],
               status="CANCELED", up=start)
    return b


@pytest.fixture
def cal_stores(two_stores, tmp_path):
    s = two_stores
    _hand_calls().write(tmp_path / "src")
    with s.writing() as cur:
        ingest_paths(cur, [tmp_path / "src"])
    every_day = calendars.save_calendar(s, "default", "every day",
                                        hours=parse_hours("1-7 08:00-18:00"))
    office = calendars.save_calendar(s, "default", "office", subdiv="MI",
                                     hours=parse_hours("mon-fri 09:00-12:30 14:00-18:00; "
                                                       "sun 02:00-03:00"))
    calendars.add_holiday(s, "default", "office", 6, 24, "patrono")
    calendars.assign(s, "default", "800", every_day.id)
    calendars.assign(s, "default", "", office.id)
    return s, {"800": calendars.get_calendar(s, "default", every_day.id),
               "": calendars.get_calendar(s, "default", office.id)}


def _expected(cals: dict, by_queue: bool) -> tuple[int, int]:
    opened = 0
    for start, qid in CALLS:
        cal = cals.get(qid if by_queue else "", cals[""])
        opened += cal.is_open(datetime.strptime(start, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ROME),
                              "Europe/Rome")
    return opened, len(CALLS) - opened


def _total(s, rid, hours=None, key="total.n", first_only=False):
    f = {"hours": [hours]} if hours else {}
    with s.cursor() as cur:
        r = run(cur, rid, Params(date_from=date(2026, 3, 1), date_to=date(2026, 12, 31),
                                 filters=f))
    return sum(t.totals.get(key) or 0 for t in r.tables[:1 if first_only else None])


def test_queue_reports_follow_each_queues_calendar(cal_stores):
    s, cals = cal_stores
    want_open, want_closed = _expected(cals, by_queue=True)
    assert (want_open, want_closed) == (6 + 4, 3 + 4)  # 800: 6 + 3, 801: 4 + 4
    for rid in ("cdr.queues", "cdr.queues_by_date", "cdr.queues_by_hour"):
        assert _total(s, rid, "open") == want_open, rid
        assert _total(s, rid, "closed") == want_closed, rid
        assert _total(s, rid) == len(CALLS)


def test_call_reports_follow_the_tenant_calendar(cal_stores):
    s, cals = cal_stores
    want_open, want_closed = _expected(cals, by_queue=False)
    for hours, want in (("open", want_open), ("closed", want_closed)):
        assert _total(s, "cdr.dashboard", hours, "total.unanswered", first_only=True) == want
        assert _total(s, "cdr.incoming_abandon_times", hours, "calls.n") == want


def test_no_calendar_means_always_open(two_stores, tmp_path):
    s = two_stores
    _hand_calls().write(tmp_path / "src")
    with s.writing() as cur:
        ingest_paths(cur, [tmp_path / "src"])
    assert _total(s, "cdr.queues", "open") == len(CALLS)
    assert _total(s, "cdr.queues", "closed") == 0
    with pytest.raises(CalendarError):
        _total(s, "cdr.queues", "lunch")


def test_every_cdr_and_call_center_report_has_the_hours_filter():
    ids = {d.id for d in all_reports() if d.id.startswith(("cdr.", "cc."))}
    # concurrency is about channels over time and agent activity about agent states: no calls
    without = {d.id for d in all_reports() if d.id in ids and "hours" not in d.filter_keys}
    assert without == {"cdr.coincidences", "cdr.coincidences_out", "cc.agent_activity"}


@pytest.fixture(scope="module")
def seed_with_calendar(tmp_path_factory):
    """Two simulated weekdays (CDR and Call Center) and calendars written straight into the
    DuckDB copies (as the writer job leaves them): queue 700 open 09-13, the tenant 08-18."""
    from pbxlens.simulate import generate
    from pbxlens.store import analytics as db

    folder = tmp_path_factory.mktemp("hours")
    generate(folder, days=2, calls_per_day=200, seed=5, start=date(2026, 5, 4),
             formats=["csv-detailed", "cc-csv-detailed"])
    con = db.connect(folder / "store.duckdb")
    ingest_paths(con, [folder])
    con.executemany("INSERT INTO calendar_hours VALUES ('default', ?, ?, ?, ?)",
                    [(1, d, 540, 780) for d in range(1, 8)]
                    + [(2, d, 480, 1080) for d in range(1, 6)])
    con.executemany("INSERT INTO calendar_assignments VALUES ('default', ?, ?)",
                    [("700", 1), ("", 2)])
    yield con
    con.close()


@pytest.mark.parametrize("rid", sorted(d.id for d in all_reports() if "hours" in d.filter_keys))
def test_within_and_outside_hours_partition_every_report(seed_with_calendar, rid):
    con = seed_with_calendar

    def totals(hours=None):
        f = {"hours": [hours]} if hours else {}
        r = run(con, rid, Params(date_from=date(2026, 5, 4), date_to=date(2026, 5, 5),
                                 filters=f))
        return [{c.key: t.totals.get(c.key) or 0 for c in t.columns
                 if c.kind == "sum" and c.unit == "count"} for t in r.tables]

    def summed(*parts):  # per column key over every table (a queue's table may be absent)
        out: dict = {}
        for part in parts:
            for t in part:
                for k, v in t.items():
                    out[k] = out.get(k, 0) + v
        return {k: v for k, v in out.items() if v}

    every, inside, outside = totals(), totals("open"), totals("closed")
    assert summed(inside, outside) == summed(every)
    if rid in ("cdr.queues", "cdr.dashboard", "cc.queues"):  # the calendar bites
        assert any(v for t in outside for v in t.values())


def test_missed_calls_count_out_of_hours_requests_apart(seed_with_calendar):
    con = seed_with_calendar
    p = Params(date_from=date(2026, 5, 4), date_to=date(2026, 5, 5), today=date(2026, 5, 6))
    # the oracle: each request's first call against its queue's calendar, else the tenant's
    cal = {"700": Calendar(1, "default", "q", country="", hours=[(d, 540, 780)
                                                                 for d in range(1, 8)]),
           "": Calendar(2, "default", "t", country="", hours=[(d, 480, 1080)
                                                              for d in range(1, 6)])}
    qid = dict(con.execute("SELECT name, id FROM queues").fetchall())
    want = sum(not cal.get(qid.get(q, q), cal[""]).is_open(t, "Europe/Rome")
               for q, t in con.execute("SELECT queue, first_call FROM missed_requests "
                                       "WHERE day BETWEEN '2026-05-04' AND '2026-05-05'"
                                       ).fetchall())
    assert want > 0
    r = run(con, "missed.dashboard", p)
    total = r.tables[0].totals
    assert total["out_of_hours.n"] == want
    assert total["out_of_hours.pct"] == round(100 * want / total["total"], 2)
    daily = r.tables[1]
    assert sum(row.get("out_of_hours.n") or 0 for row in daily.rows) == want
    # the categories still partition every request
    cats = ("served_inbound", "handled_with_callback", "forced_closure",
            "unanswered_callbacks", "not_managed")
    assert sum(total.get(f"{c}.n") or 0 for c in cats) == total["total"]
    outside = run(con, "missed.dashboard", Params(date_from=p.date_from, date_to=p.date_to,
                                                  today=p.today, filters={"hours": ["closed"]}))
    assert outside.tables[0].totals["total"] == want
