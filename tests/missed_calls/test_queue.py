"""The callback queue on the operations store (SQLite and PostgreSQL): the lists page past
1,000 requests newest first, privacy (masked numbers, search by the visible part only, random
ids), flushes that stay closed whatever the order of ingest and refresh, the push after an
ingest job, and the full resync."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from pbxlens.ingest.job import ingest_job
from pbxlens.missed_calls import listing, sync
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls.actor import Actor
from pbxlens.simulate import generate
from pbxlens.store import schema
from tests.missed_calls.helpers import Cdr, at, ops_requests, request_of, requests, token_of

FULL = Actor("boss", "supervisor", "default", None, privacy=True)
MASKED = Actor("sup", "supervisor", "default", None, privacy=False)
OPERATOR = Actor("anon", "operator", "default", "515", privacy=False)


def _many(con, stores, n: int) -> list[str]:
    """n requests, one a minute from 08:00, numbers 3330000000 + i."""
    c = Cdr(con, stores.ops)
    nums = [str(3330000000 + i) for i in range(n)]
    t0 = at("08:00:00")
    for i, num in enumerate(nums):
        c.dynamic_routing(num, t0 + timedelta(minutes=i))
    c.commit()
    return nums


def test_the_list_pages_past_1000_newest_first(con, stores):
    nums = _many(con, stores, 1205)
    seen: list[str] = []
    for offset in range(0, 1300, 500):
        page = listing.list_requests(stores, FULL, "to_call", limit=500, offset=offset,
                                     now=at("23:00:00"))
        assert page.total == 1205
        seen += [r["call_num"] for r in page.rows]
    assert seen == nums[::-1]  # every request once, the newest first
    past = listing.list_requests(stores, FULL, "to_call", limit=500, offset=5000,
                                 now=at("23:00:00"))
    assert past.rows == [] and past.total == 1205  # no row to carry the count: counted alone
    oldest = listing.list_requests(stores, FULL, "open", sort="first_call", desc=False,
                                   limit=3, offset=1200, now=at("23:00:00"))
    assert [r["call_num"] for r in oldest.rows] == nums[-5:-2]
    window = listing.list_requests(stores, FULL, "open", limit=10, now=at("23:00:00"),
                                   filters={"first_from": "2021-07-06T20:00:00",
                                            "first_to": "2021-07-06 20:04:59"})
    assert [r["call_num"] for r in window.rows] == nums[720:725][::-1]  # 20:00 .. 20:04
    day = listing.list_requests(stores, FULL, "open", filters={"first_to": "2021-07-06"})
    assert day.total == 16 * 60  # 08:00 .. 23:59 (a date: its whole day)


def test_masked_search_cannot_recover_a_hidden_digit(con, stores):
    c = Cdr(con, stores.ops)
    secret = "3471234567"
    c.dynamic_routing(secret, "09:00:00")
    c.dynamic_routing("3471234999", "09:01:00")  # same visible part, other hidden digits
    c.commit()
    shown = listing.list_requests(stores, OPERATOR, now=at("10:00:00")).rows
    assert {r["call_num"] for r in shown} == {"3471234xxx"}
    for who in (OPERATOR, MASKED):
        def hits(q: str, who: Actor = who) -> int:
            return listing.list_requests(stores, who, "to_call", {"caller": q},
                                         now=at("10:00:00")).total
        assert hits("3471234") == 2 and hits("71234") == 2  # what they see
        assert hits(secret) == 0 and hits("+39 347 123 4567") == 0
        # one digit at a time: a guess beyond the visible part never narrows anything down
        assert all(hits("3471234" + d) == 0 for d in "0123456789")
        assert all(hits("4" + d + "67") == 0 for d in "0123456789")
        assert hits("567") == 0
    by_call_num = listing.list_requests(stores, MASKED, "open", sort="call_num",
                                        now=at("10:00:00")).rows
    assert {r["call_num"] for r in by_call_num} == {"3471234xxx"}
    full = listing.list_requests(stores, FULL, "to_call", {"caller": "4567"}, now=at("10:00:00"))
    assert [r["call_num"] for r in full.rows] == [secret]  # the privacy right: any part
    with pytest.raises(op.Forbidden):
        listing.history(stores, MASKED, number=secret)
    with pytest.raises(op.NotFound):
        op.find(stores, OPERATOR, secret)  # a number is no key without the right


def test_ids_are_random_not_derived_from_the_number(con, stores):
    c = Cdr(con, stores.ops)
    c.dynamic_routing("3331234567", "09:00:00", uid="1625554800.1")
    c.commit()
    [r] = ops_requests(stores)
    tok = r["token"]
    assert len(tok) >= 22 and "3331234567" not in tok and "1234567" not in tok
    for text in ("3331234567|1625554800.1", "3331234567", r["request_key"]):
        for algo in ("md5", "sha1", "sha256"):
            h = hashlib.new(algo, text.encode()).hexdigest()
            assert tok not in h and h[:len(tok)] != tok
        assert not hmac.compare_digest(tok, text)
    row = listing.list_requests(stores, OPERATOR, now=at("10:00:00")).rows[0]
    assert "request_key" not in row and row["token"] == tok
    # the same facts in another store get another id
    with stores.writing() as cur:
        cur.execute(f"DELETE FROM {sync.reconcile.touched_table(cur)}")
    with stores.ops_write() as c2:
        c2.execute(schema.callback_requests.delete())
    with stores.writing() as cur:
        sync.resync(cur, stores.ops)
    assert token_of(stores, "3331234567") != tok


def test_a_flush_stays_closed_whatever_runs_first(con, stores, monkeypatch):
    c = Cdr(con, stores.ops)
    c.dynamic_routing("3201111111", "09:00:00")
    c.commit()
    tok = token_of(stores, "3201111111")
    pending: list = []
    monkeypatch.setattr(sync, "after_change", pending.append)  # the refresh has not run yet
    assert op.flush(stores, FULL, [tok], now=at("14:00:00")) == 1
    c.dynamic_routing("3201111111", "09:05:00")  # a late call: reconciled before the refresh
    c.commit()
    assert request_of(con, "3201111111")["state"] == "open"  # DuckDB does not know yet
    [o] = ops_requests(stores)
    assert (o["state"], o["closure"], o["num_calls"]) == ("closed", "forced_closure", 1)
    with pytest.raises(op.NotOpen):
        op.book(stores, OPERATOR, tok, now=at("14:01:00"))
    with stores.writing() as cur:  # the refresh job the flush queued
        sync.refresh(cur, stores.ops)
    [r] = requests(con)
    assert (r["state"], r["closure"], r["num_calls"]) == ("closed", "forced_closure", 2)
    [o] = ops_requests(stores)
    assert (o["token"], o["state"], o["closure"], o["num_calls"]) == \
        (tok, "closed", "forced_closure", 2)


def test_flush_then_the_next_ingest_keeps_it_closed(stores, tmp_path):
    generate(tmp_path / "sim", days=1, calls_per_day=300, seed=5, start=date(2026, 5, 11),
             formats=["csv-detailed"])
    stores.writer.run("ingest", "day 1", ingest_job([tmp_path / "sim"]))
    with stores.cursor() as cur:
        duck = cur.execute("SELECT call_num, num_calls, state FROM missed_requests "
                           "ORDER BY ALL").fetchall()
    pushed = ops_requests(stores)
    assert duck and sorted((o["call_num"], o["num_calls"], o["state"]) for o in pushed) == duck
    victim = next(o for o in pushed if o["state"] == "open")
    op.flush(stores, FULL, [victim["token"]])
    # the same calls again, as a new file: every number of the file is reconciled again
    src = next((tmp_path / "sim").rglob("*.csv"))
    (tmp_path / "again.csv").write_bytes(src.read_bytes() + b"\n")
    stores.writer.run("ingest", "again", ingest_job([tmp_path / "again.csv"]))
    got = {o["token"]: o for o in ops_requests(stores)}
    assert (got[victim["token"]]["state"], got[victim["token"]]["closure"]) == \
        ("closed", "forced_closure")
    with stores.cursor() as cur:
        assert cur.execute("SELECT state, closure FROM missed_requests WHERE request_key = ?",
                           [victim["request_key"]]).fetchone() == ("closed", "forced_closure")
    assert len(got) == len(pushed)


def test_resync_repairs_the_operations_store(con, stores):
    _many(con, stores, 30)
    before = {o["request_key"]: o for o in ops_requests(stores)}
    r = schema.callback_requests
    with stores.ops_write() as c:  # damage: one row gone, one wrong, one that never was
        c.execute(r.delete().where(r.c.call_num == "3330000000"))
        c.execute(r.update().where(r.c.call_num == "3330000001").values(num_calls=99))
        c.execute(r.insert().values(tenant="default", request_key="x|1", token="t" * 22,
                                    call_num="3999999999", first_call=at("08:00:00"),
                                    last_call=at("08:00:00"), num_calls=1, state="open"))
    with stores.writing() as cur:
        out = sync.resync(cur, stores.ops)
    assert out["removed"] == 1
    after = {o["request_key"]: o for o in ops_requests(stores)}
    assert set(after) == set(before)
    for k, o in after.items():
        assert o["num_calls"] == before[k]["num_calls"]
        if before[k]["call_num"] != "3330000000":
            assert o["token"] == before[k]["token"]  # the rows that were right keep their id
    with stores.ops_read() as c:
        assert c.execute(sa.select(schema.ops_meta.c.value).where(
            schema.ops_meta.c.key == sync.MARK)).scalar_one()


def _holders(stores) -> list[tuple[str, str | None, str | None]]:
    """Per open request: its `held_by` copy and the holder of its valid booking (the truth)."""
    r, b = schema.callback_requests, schema.missed_bookings
    j = r.outerjoin(b, sa.and_(b.c.tenant == r.c.tenant, b.c.call_num == r.c.call_num,
                               b.c.booked_at >= r.c.first_call))
    with stores.ops_read() as c:
        return [tuple(x) for x in c.execute(sa.select(r.c.call_num, r.c.held_by, b.c.booked_by)
                                            .select_from(j).where(r.c.state == "open")
                                            .order_by(r.c.call_num))]


def test_the_holder_copy_follows_every_action(con, stores):
    """`held_by` (the lists' index) equals the valid booking's holder after any run of book,
    cancel, assign, flush, callbacks and new calls; the lists agree with the truth."""
    import random

    nums = _many(con, stores, 12)
    ops_ = {n: Actor(n, "operator", "default", e, privacy=True)
            for n, e in (("michael", "515"), ("celeste", "500"))}
    rnd = random.Random(7)
    clock = at("20:00:00")
    c = Cdr(con, stores.ops)
    for step in range(60):
        clock += timedelta(minutes=1)
        num = rnd.choice(nums)
        open_ = [o for o in ops_requests(stores) if o["call_num"] == num and o["state"] == "open"]
        kind = rnd.choice(["book", "book", "cancel", "assign", "flush", "call", "callback"])
        try:
            if kind == "call":
                c.dynamic_routing(num, clock)
                c.commit()
            elif kind == "callback":
                c.outbound(num, clock, status="OK", bill=20)
                c.commit()
            elif open_ and kind == "book":
                op.book(stores, ops_[rnd.choice(list(ops_))], open_[0]["token"], now=clock)
            elif open_ and kind == "cancel":
                op.cancel(stores, FULL, open_[0]["token"], now=clock)
            elif open_ and kind == "assign":
                op.assign(stores, FULL, open_[0]["token"], rnd.choice(list(ops_)), now=clock)
            elif open_ and kind == "flush":
                op.flush(stores, FULL, [open_[0]["token"]], now=clock)
        except op.MissedError:
            pass  # a conflict or a refusal: nothing changed
        rows = _holders(stores)
        assert [(n, h) for n, h, _ in rows] == [(n, b) for n, _, b in rows], (step, kind, num)
    truth = {n for n, _, b in _holders(stores) if b is None}
    page = listing.list_requests(stores, FULL, "to_call", limit=500, now=clock)
    assert {r["call_num"] for r in page.rows} == truth and page.total == len(truth)
    for name, actor in ops_.items():
        mine = {n for n, _, b in _holders(stores) if b == name}
        assert {r["call_num"] for r in listing.list_requests(stores, actor, "booked", limit=500,
                                                              now=clock).rows} == mine


def test_a_request_pushed_after_its_booking_is_held(con, stores):
    """Booked on the number's request while the callback that closed it and the next missed
    call were still on their way: the new request began before the booking, so it is held."""
    c = Cdr(con, stores.ops)
    c.dynamic_routing("3331112222", "09:00:00")
    c.commit()
    michael = Actor("michael", "operator", "default", "515", privacy=True)
    op.book(stores, michael, token_of(stores, "3331112222"), now=at("11:00:00"))
    c.outbound("3331112222", "10:00:00", status="OK", bill=30)  # closes the first request
    c.dynamic_routing("3331112222", "10:30:00")  # a new one, begun before the booking
    c.commit()
    [(num, held, booked)] = _holders(stores)
    assert held == booked == "michael"
    assert [r["call_num"] for r in listing.list_requests(stores, michael, "booked",
                                                         now=at("11:05:00")).rows] == [num]
    assert listing.list_requests(stores, michael, "to_call", now=at("11:05:00")).total == 0


def test_the_analytics_copy_holds_the_bookings_of_open_requests(con, stores):
    """The analytics store copies the bookings of the numbers with an open request (the only
    ones that can hold one), not every booking ever made; a push copies the bookings of the
    numbers it touched, so that a request it brings, held by a booking made on the number's
    previous request, is booked in the reports too."""
    c = Cdr(con, stores.ops)
    c.dynamic_routing("3331112222", "09:00:00")
    c.commit()
    michael = Actor("michael", "operator", "default", "515", privacy=True)
    op.book(stores, michael, token_of(stores, "3331112222"), now=at("11:00:00"))

    def copied() -> list[tuple]:
        return con.execute("SELECT call_num, booked_by FROM missed_bookings").fetchall()

    sync.mirror(con, stores.ops)
    assert copied() == [("3331112222", "michael")]
    c.outbound("3331112222", "10:00:00", status="OK", bill=30)  # closes the request
    c.commit()
    sync.mirror(con, stores.ops)
    assert copied() == []  # no open request: the booking holds nothing
    with stores.ops_read() as o:  # and it stays in the operations store
        assert o.execute(sa.select(sa.func.count()).select_from(schema.missed_bookings)
                         ).scalar_one() == 1
    c.dynamic_routing("3331112222", "10:30:00")  # a new request, begun before the booking
    c.commit()
    assert copied() == [("3331112222", "michael")]


def test_a_timeout_changed_here_applies_at_once(con, stores):
    """Lists and bookings read the callback timeouts from a copy at most a second old; a
    change made in this process is seen by the next list and booking at once."""
    from pbxlens.missed_calls import tables as T

    nums = _many(con, stores, 2)
    now = at("23:00:00")
    with stores.ops.begin() as c:  # a click-to-call dial 200 s ago: past the default 120 s
        c.execute(T.dials.insert().values(tenant="default", call_num=nums[0],
                                          started_at=now - timedelta(seconds=200),
                                          started_by="boss"))
    listed = listing.list_requests(stores, FULL, "to_call", limit=50, now=now)
    assert {r["call_num"] for r in listed.rows} == set(nums)
    op.set_setting(stores, FULL, "dial_timeout_s", "300")
    listed = listing.list_requests(stores, FULL, "to_call", limit=50, now=now)
    assert [r["call_num"] for r in listed.rows] == [nums[1]] and listed.total == 1
    with pytest.raises(op.InProgress):
        op.book(stores, Actor("michael", "operator", "default", "515"),
                token_of(stores, nums[0]), now=now)


def test_request_tokens_never_read_as_a_cli_option(con, stores):
    _many(con, stores, 300)
    tokens = [o["token"] for o in ops_requests(stores)]
    assert len(tokens) == 300 and not [t for t in tokens if "-" in t]


def test_a_first_push_leaves_the_requests_with_statistics(con, stores):
    """The push that fills a new store's requests analyzes them: on PostgreSQL the lists' and
    bookings' queries were planned without statistics until autovacuum's first pass, up to a
    minute later; SQLite never makes them by itself (an operator's list count then drove from
    every open request)."""
    from pbxlens.missed_calls import tables as T
    from pbxlens.store import ops

    _many(con, stores, 5)
    assert ops.analyze_unanalyzed(stores.ops, (T.requests,)) == []
    if stores.ops.dialect.name == "postgresql":
        with stores.ops.connect() as c:
            assert c.execute(sa.text(
                "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL"
                " FROM pg_stat_user_tables WHERE relname = 'callback_requests'")).scalar()
    else:
        with stores.ops.connect() as c:
            assert c.exec_driver_sql("SELECT count(*) FROM sqlite_stat1"
                                     " WHERE tbl = 'callback_requests'").scalar()


def test_the_to_call_total_counts_its_rows(con, stores):
    """`to_call`'s total (every open, unheld request, less those with a callback in progress,
    found from their numbers) is the number of rows the list pages through: with bookings, a
    booking made before a number's request began (it holds nothing), a click-to-call dial and
    a live call to two numbers, one of them booked as well, and filters."""
    from pbxlens.missed_calls import tables as T

    nums = _many(con, stores, 40)
    now = at("23:00:00")
    for i, who in ((3, "ann"), (4, "bob"), (7, "ann")):
        op.book(stores, Actor(who, "operator", "default", "51" + str(i)),
                token_of(stores, nums[i]), now=now)
    with stores.ops.begin() as c:
        c.execute(T.bookings.insert().values(  # before the request began: lapsed
            tenant="default", call_num=nums[9], booked_by="cy", booked_at=at("07:00:00")))
        c.execute(T.dials.insert(), [
            {"tenant": "default", "call_num": n, "started_at": now - timedelta(seconds=5),
             "started_by": "ann"} for n in (nums[11], nums[3])])
        c.execute(T.live_calls.insert().values(
            tenant="default", unique_id="9.1", called_num=nums[12], state="talking",
            started_at=now - timedelta(seconds=5), updated_at=now))
    listed = listing.list_requests(stores, FULL, "to_call", limit=500, now=now)
    assert {r["call_num"] for r in listed.rows} == set(nums) - {nums[i] for i in (3, 4, 7, 11, 12)}
    assert listed.total == len(listed.rows) == 35
    for flt in ({"caller": "333000001"}, {"first_from": "2021-07-06 08:10:00"}, {"queue": "x"}):
        page = listing.list_requests(stores, FULL, "to_call", flt, limit=500, now=now)
        assert page.total == len(page.rows), flt
    later = listing.list_requests(stores, FULL, "to_call", limit=5, offset=30, now=now)
    assert later.total == 35 and len(later.rows) == 5


@pytest.mark.parametrize("ops_url", ["postgresql"], indirect=True)
def test_postgresql_plans_the_list_once_with_many_closed_requests(con, stores):
    """The operators' list is planned once per prepared statement (a generic plan), not at
    every execution, also when closed requests outnumber the open ones (with the state bound,
    the generic plan assumed half of the table open, and PostgreSQL planned every list anew).
    A page's size and offset are part of its text: page 2 is its own statement, still right."""
    nums = _many(con, stores, 30)
    with stores.ops.begin() as c:  # a long history: closed requests outnumber the open ones
        c.execute(schema.callback_requests.insert(), [
            {"tenant": "default", "request_key": f"old{i}", "token": f"old-token-{i:06d}",
             "call_num": f"3990{i:06d}", "first_call": at("08:00:00") - timedelta(days=90),
             "last_call": at("08:00:00") - timedelta(days=90), "num_calls": 1,
             "num_recalled": 0, "state": "closed", "closure": "callback"}
            for i in range(20_000)])
        c.exec_driver_sql("ANALYZE callback_requests")
    for _ in range(60):
        page = listing.list_requests(stores, FULL, "to_call", limit=20, now=at("23:00:00"))
        assert page.total == 30 and [r["call_num"] for r in page.rows] == nums[::-1][:20]
    second = listing.list_requests(stores, FULL, "to_call", limit=20, offset=20,
                                   now=at("23:00:00"))
    assert [r["call_num"] for r in second.rows] == nums[::-1][20:]
    with stores.ops.connect() as c:  # psycopg prepares from the fifth execution on
        plans = c.exec_driver_sql(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE strpos(statement, 'total_rows') > 0 AND strpos(statement, 'LIMIT 20') > 0"
        ).all()
    assert plans and sum(p.generic_plans for p in plans) > 0, plans
