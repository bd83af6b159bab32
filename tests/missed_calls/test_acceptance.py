"""The Missed Calls acceptance examples of nexus_modules.md (MC-1 ... MC-11: the state machine
and the operations; MC-12 ... MC-16 are in test_reports.py): the state machine on a real DuckDB
store, the operators' lists and actions on the operations store (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from pbxlens.missed_calls import listing, reconcile
from pbxlens.missed_calls import operations as op
from pbxlens.missed_calls.actor import Actor
from pbxlens.missed_calls.numbers import national
from pbxlens.store import schema
from tests.missed_calls.helpers import Cdr, at, ops_requests, request_of, requests, token_of

OP515 = Actor("michael", "operator", "default", "515", privacy=True)
OP500 = Actor("celeste", "operator", "default", "500", privacy=True)
OP612 = Actor("luca", "operator", "default", "612", privacy=True)
SUP = Actor("boss", "supervisor", "default", None, privacy=True)
NOW = at("09:30:00")


@pytest.fixture
def db(stores):
    op.set_setting(stores, SUP, "operator_extensions", "515,500")
    return stores


def nums(db, actor, view="to_call", now=NOW):
    return [r["call_num"] for r in listing.list_requests(db, actor, view, now=now).rows]


def mc1(con, stores) -> str:
    c = Cdr(con, stores.ops)
    c.dynamic_routing("3331234567", "09:00:00", uid="1625554800.100")
    c.commit()
    return token_of(stores, "3331234567")


def live_call(stores, uid: str, called: str, when, *, end: bool = False) -> None:
    """The event intake's live state: a call to `called` starts (a row) or ends (no row)."""
    lc = schema.live_calls
    with stores.ops_write() as c:
        if end:
            c.execute(lc.delete().where(lc.c.unique_id == uid))
        else:
            c.execute(lc.insert().values(tenant="default", unique_id=uid, direction="out",
                                         called=called, called_num=national(called, True),
                                         state="ringing", started_at=when, updated_at=when))


def test_mc1_import_creates_one_open_request(con, db):
    tok = mc1(con, db)
    [r] = requests(con)
    assert (r["call_num"], r["num_calls"], r["num_recalled"], r["last_recalled"]) == \
        ("3331234567", 1, 0, None)
    assert r["first_call"] == r["last_call"] == at("09:00:00")
    assert (r["state"], r["queue"], r["type"], r["source"]) == \
        ("open", "IVR-Giorno-1Caldaie", "queue", "dynamic_routing")
    [o] = ops_requests(db)  # pushed to the operations store as is, with a random token
    assert {k: o[k] for k in ("call_num", "first_call", "num_calls", "state", "queue")} == \
        {k: r[k] for k in ("call_num", "first_call", "num_calls", "state", "queue")}
    assert o["token"] == tok and "3331234567" not in tok
    assert nums(db, OP515) == nums(db, OP500) == ["3331234567"]


def test_mc2_repost_is_idempotent(con, db):
    tok = mc1(con, db)
    c = Cdr(con, db.ops)
    c.dynamic_routing("3331234567", "09:00:05", uid="1625554800.100")  # same unique_id
    c.commit()
    assert request_of(con, "3331234567")["num_calls"] == 1
    assert token_of(db, "3331234567") == tok  # the token stays


def test_mc3_second_call_aggregates(con, db):
    tok = mc1(con, db)
    c = Cdr(con, db.ops)
    c.dynamic_routing("+39 333 1234567", "09:03:07", uid="1625554800.101")
    c.commit()
    r = request_of(con, "3331234567")
    assert (r["num_calls"], r["first_call"], r["last_call"]) == (2, at("09:00:00"), at("09:03:07"))
    [row] = listing.list_requests(db, OP515, now=NOW).rows
    assert (row["token"], row["num_calls"], row["last_call"]) == (tok, 2, at("09:03:07"))


def test_mc4_book_visibility_conflict_cancel(con, db):
    key = mc1(con, db)
    got = op.book(db, OP515, key, now=NOW)
    assert got["booked_at"] == NOW
    assert nums(db, OP515, "booked") == ["3331234567"]
    assert nums(db, OP500) == [] and nums(db, OP500, "booked") == []
    [row] = listing.list_requests(db, SUP, "assign", now=NOW).rows
    assert row["booked_by"] == "michael"
    with pytest.raises(op.Conflict, match="already booked by michael"):
        op.book(db, OP500, key, now=NOW)
    with pytest.raises(op.Forbidden):
        op.cancel(db, OP500, key, now=NOW)
    op.cancel(db, OP515, key, now=NOW)
    assert nums(db, OP500) == nums(db, OP515) == ["3331234567"]
    assert listing.list_requests(db, SUP, "assign", now=NOW).rows[0]["booked_by"] is None
    assert [h["action"] for h in listing.history(db, SUP)] == ["cancel", "book"]
    assert [h["action"] for h in listing.history(db, OP500)] == []  # operators: their own


def test_mc5_assign_eligibility(con, db):
    key = mc1(con, db)
    with pytest.raises(op.MissedError, match="612 is not an eligible"):
        op.assign(db, SUP, key, "luca", now=NOW)
    with pytest.raises(op.MissedError, match="no VoIP extension"):
        op.assign(db, SUP, key, "mario", now=NOW)
    with pytest.raises(op.Forbidden):
        op.assign(db, OP515, key, "celeste", now=NOW)
    assert [o["username"] for o in op.eligible_operators(db, "default")] == ["celeste", "michael"]
    op.set_setting(db, SUP, "operator_extensions", "")
    op.assign(db, SUP, key, "luca", now=NOW)
    assert nums(db, OP612, "booked") == ["3331234567"]
    assert listing.list_requests(db, SUP, "assign", now=NOW).rows[0]["assigned_by"] == "boss"
    op.assign(db, SUP, key, "michael", now=NOW)  # re-assigning replaces the booking (A.5)
    assert nums(db, OP612, "booked") == [] and nums(db, OP515, "booked") == ["3331234567"]


def test_mc6_mc7_failed_callbacks_then_success(con, db):
    key = mc1(con, db)
    op.book(db, OP515, key, now=NOW)
    ringing = at("10:00:05")
    live_call(db, "1625558400.1", "03331234567", at("10:00:00"))
    for actor, view in ((OP515, "booked"), (OP500, "to_call"), (SUP, "assign"), (SUP, "flush")):
        assert nums(db, actor, view, now=ringing) == [], view
    with pytest.raises(op.NotOpen, match="in progress"):
        op.book(db, OP500, key, now=ringing)
    c = Cdr(con, db.ops)
    c.outbound("03331234567", "10:00:00", status="NOANSWER", bill=0, uid="1625558400.1")
    c.commit()
    live_call(db, "1625558400.1", "03331234567", at("10:00:20"), end=True)
    r = request_of(con, "3331234567")
    assert (r["num_recalled"], r["last_recalled"]) == (1, at("10:00:00"))
    [row] = listing.list_requests(db, OP515, "booked", now=at("10:01:00")).rows
    assert (row["call_num"], row["num_recalled"], row["last_recalled"]) == \
        ("3331234567", 1, at("10:00:00"))
    assert listing.list_requests(db, SUP, "assign", now=at("10:01:00")).rows[0]["booked_by"] \
        == "michael"
    c.outbound("03331234567", "10:30:00", status="OK", bill=5)
    c.commit()
    r = request_of(con, "3331234567")
    assert (r["num_recalled"], r["last_recalled"], r["state"]) == (2, at("10:30:00"), "open")
    c.outbound("03331234567", "11:00:00", status="OK", bill=6)
    c.commit()
    [r] = requests(con)
    assert (r["state"], r["closure"], r["num_recalled"]) == ("closed", "handled_with_callback", 2)
    later = at("12:00:00")
    for actor, view in ((OP515, "booked"), (OP515, "to_call"), (SUP, "assign"), (SUP, "flush")):
        assert nums(db, actor, view, now=later) == [], view
    [row] = listing.list_requests(db, SUP, "all", now=later).rows
    assert (row["state"], row["closure"]) == ("closed", "handled_with_callback")


def test_billsec_threshold_is_a_decimal_compare(con, db):
    mc1(con, db)
    c = Cdr(con, db.ops)
    c.outbound("03331234567", "10:00:00", status="OK", bill=5.001)
    c.commit()
    assert requests(con)[0]["closure"] == "handled_with_callback"


def test_mc8_other_operator_dials(con, db):
    c = Cdr(con, db.ops)
    c.dynamic_routing("3349998888", "11:00:00", uid="1625562000.1")
    c.commit()
    key = token_of(db, "3349998888")
    op.book(db, OP515, key, now=at("11:30:00"))
    op.dial(db, OP500, key, now=at("12:00:00"))  # click to call by 500
    for actor, view in ((OP515, "booked"), (OP500, "to_call"), (OP500, "booked"), (SUP, "assign")):
        assert nums(db, actor, view, now=at("12:00:10")) == [], view
    c.outbound("03349998888", "12:00:00", status="NOANSWER", ext="500")
    c.commit()  # the push sees the attempt in the CDR: the dial is over
    r = request_of(con, "3349998888")
    assert r["num_recalled"] == 1
    assert nums(db, OP515, "booked", now=at("12:00:30")) == ["3349998888"]
    assert nums(db, OP500, "booked", now=at("12:00:30")) == []
    c.outbound("03349998888", "12:10:00", status="OK", bill=30, ext="500")
    c.commit()
    assert requests(con)[0]["closure"] == "handled_with_callback"


def test_dial_hides_only_until_timeout(con, db):
    key = mc1(con, db)
    op.dial(db, OP515, key, now=at("10:00:00"))
    assert nums(db, OP500, now=at("10:01:00")) == []
    assert nums(db, OP500, now=at("10:02:01")) == ["3331234567"]  # dial_timeout_s 120


def test_mc9_served_inbound(con, db):
    c = Cdr(con, db.ops)
    c.inbound("3471112222", "09:05:00", answered=True, bill=60)  # before first_call: ignored
    c.inbound("3471112222", "09:10:00")
    c.commit()
    c.inbound("3471112222", "09:20:00", answered=True, bill=4)   # 4 s: does not close
    c.inbound("3471112222", "09:25:00", voicemail=True, bill=30)  # a voicemail is not a person
    c.commit()
    r = request_of(con, "3471112222")
    assert r["num_calls"] == 2  # the voicemail call is itself a missed queue call
    c.inbound("3471112222", "09:40:00", answered=True, bill=120)
    c.commit()
    [r] = requests(con)
    assert (r["state"], r["closure"], r["first_call"]) == ("closed", "served_inbound", at("09:10:00"))
    [o] = ops_requests(db)
    assert (o["state"], o["closure"], o["closed_at"]) == ("closed", "served_inbound", r["closed_at"])


def test_mc10_mc11_flush_then_reopen(con, db):
    c = Cdr(con, db.ops)
    c.dynamic_routing("3201111111", "09:00:00")
    c.dynamic_routing("3202222222", "09:01:00")
    c.commit()
    c.outbound("03202222222", "09:30:00", status="BUSY")
    c.commit()
    assert request_of(con, "3202222222")["num_recalled"] == 1
    keys = [token_of(db, n) for n in ("3201111111", "3202222222")]
    with pytest.raises(op.Forbidden):
        op.flush(db, OP515, keys, now=at("14:00:00"))
    assert op.flush(db, SUP, keys, now=at("14:00:00")) == 2
    # closed at once in the operations store; the writer's refresh reconciled DuckDB too
    assert {(o["state"], o["closure"]) for o in ops_requests(db)} == {("closed", "forced_closure")}
    rs = requests(con)
    assert {(r["state"], r["closure"]) for r in rs} == {("closed", "forced_closure")}
    for actor, view in ((OP515, "to_call"), (SUP, "assign"), (SUP, "flush")):
        assert nums(db, actor, view, now=at("14:01:00")) == []
    with pytest.raises(op.NotOpen, match="not open"):
        op.book(db, OP515, keys[0], now=at("14:01:00"))
    old = request_of(con, "3201111111", "closed")
    c.dynamic_routing("3201111111", "15:00:00")
    c.commit()
    new = request_of(con, "3201111111", "open")
    assert (new["num_calls"], new["first_call"]) == (1, at("15:00:00"))
    assert request_of(con, "3201111111", "closed") == old
    assert token_of(db, "3201111111", "closed") == keys[0]
    assert token_of(db, "3201111111", "open") not in keys
    reconcile.rebuild_all(con)  # a full rebuild keeps the flush where it was
    assert request_of(con, "3201111111", "closed") == old
    assert request_of(con, "3201111111", "open")["first_call"] == at("15:00:00")


def test_booking_lapses_when_the_request_closes(con, db):
    key = mc1(con, db)
    op.book(db, OP515, key, now=NOW)
    c = Cdr(con, db.ops)
    c.inbound("3331234567", "10:00:00", answered=True, bill=60)
    c.commit()
    c.dynamic_routing("3331234567", "11:00:00")
    c.commit()
    new = token_of(db, "3331234567")
    assert new != key
    assert nums(db, OP515, "booked", now=at("11:05:00")) == []
    assert nums(db, OP500, now=at("11:05:00")) == ["3331234567"]
    op.book(db, OP500, new, now=at("11:05:00"))  # the lapsed booking is replaced
    assert nums(db, OP500, "booked", now=at("11:06:00")) == ["3331234567"]
