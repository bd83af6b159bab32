"""The live state machine through the real intake (Inbox.accept), on both operations-store
back-ends: agents (login, pause reasons, ringing, talking, wrap-up), queue calls (waiting,
talking, abandoned while ringing, transfers), today's counters, and events duplicated,
reordered or missing."""

from __future__ import annotations

import itertools
import json
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pbxlens.ingest import inbox
from pbxlens.ingest.webhook_bodies import parse_events
from pbxlens.live import hub, state
from pbxlens.store import ops, schema
from tests.live.helpers import agent, at, ev, login, post, queue, snap, uid


@pytest.fixture
def intake(stores):
    ib = inbox.Inbox(stores.ops)
    yield ib
    ib.close()


def counters(q: dict) -> dict:
    keys = ("offered", "answered", "sl_hit", "abandoned", "short_abandoned", "unanswered",
            "asa_s", "longest_wait_s")
    return {k: q["today"][k] for k in keys}


def test_a_served_call_moves_agent_and_queue(stores, intake):
    u = uid(1, 10)
    post(intake, login("201", 0), login("202", 0))
    assert agent(stores, 5, "201")["state"] == "available"
    post(intake, ev("pbx.call.start", 10, u, caller="+393331234567"),
         ev("pbx.queue.enter", 10, u, caller="+393331234567"))
    q = queue(stores, 14)
    assert (q["waiting"], q["longest_wait_s"], q["agents"]["available"]) == (1, 4, 2)
    assert q["calls"][0]["caller"] == "+393331234567"
    post(intake, ev("pbx.queue.ringmember", 12, u, member_exten="201", member_account="201"))
    assert agent(stores, 13, "201")["state"] == "ringing"
    post(intake, ev("pbx.queue.servedcall", 16, u, member_exten="201", member_account="201"))
    a = agent(stores, 20, "201")
    assert (a["state"], a["in_state_s"], a["calls_today"]) == ("talking", 4, 1)
    q = queue(stores, 20)
    assert (q["waiting"], q["talking"], q["agents"]["talking"]) == (0, 1, 1)
    assert q["calls"][0] == {**q["calls"][0], "state": "talking", "agent": "201", "talk_s": 4}
    assert counters(q) == {"offered": 1, "answered": 1, "sl_hit": 1, "abandoned": 0,
                           "short_abandoned": 0, "unanswered": 0, "asa_s": 6,
                           "longest_wait_s": 6}
    post(intake, ev("pbx.call.end", 76, u))
    assert agent(stores, 80, "201")["state"] == "wrapup"  # live_wrapup_s = 10
    a = agent(stores, 90, "201")
    assert (a["state"], a["in_state_s"]) == ("available", 4)
    assert queue(stores, 90)["talking"] == 0


def test_pause_reasons_per_queue_and_for_every_queue(stores, intake):
    post(intake, login("201", 0), login("201", 0, queue="701"))
    post(intake, ev("pbx.queuemember.pause", 100, member_exten="201", reason="lunch",
                    all_queues=True))
    a = agent(stores, 160, "201")
    assert (a["state"], a["reason"], a["in_state_s"]) == ("paused", "lunch", 60)
    assert a["paused_queues"] == ["700", "701"]
    post(intake, ev("pbx.queuemember.unpause", 200, member_exten="201", queue="701"))
    a = agent(stores, 210, "201")
    assert a["state"] == "available" and a["paused_queues"] == ["700"]
    assert queue(stores, 210, "700")["agents"]["paused"] == 1
    assert queue(stores, 210, "701")["agents"]["available"] == 1
    post(intake, ev("pbx.queuemember.removed", 300, member_exten="201", queue="700"),
         ev("pbx.queuemember.removed", 300, member_exten="201", queue="701"))
    assert agent(stores, 310, "201")["state"] == "logged_out"


def test_abandoned_while_ringing_an_agent(stores, intake):
    u = uid(2, 10)
    post(intake, login("201", 0), ev("pbx.queue.enter", 10, u),
         ev("pbx.queue.ringmember", 15, u, member_exten="201"))
    assert agent(stores, 20, "201")["state"] == "ringing"
    post(intake, ev("pbx.queue.unservedcall", 40, u, reason="CANCELLED"))
    assert agent(stores, 41, "201")["state"] == "available"  # the ring ended with the call
    q = queue(stores, 41)
    assert (q["waiting"], q["today"]["abandoned"], q["today"]["sl_den"]) == (0, 1, 1)
    assert q["today"]["sl_pct"] == 0.0 and q["today"]["longest_wait_s"] == 30
    post(intake, ev("pbx.call.end", 41, u))
    assert counters(queue(stores, 50))["abandoned"] == 1


def test_short_abandon_timeout_and_join_empty(stores, intake):
    post(intake, ev("pbx.queue.enter", 0, uid(1)), ev("pbx.queue.unservedcall", 3, uid(1),
                                                       reason="CANCELLED"),
         ev("pbx.queue.enter", 0, uid(2)), ev("pbx.queue.unservedcall", 90, uid(2),
                                               reason="TIMEOUT"),
         ev("pbx.queue.enter", 0, uid(3)), ev("pbx.queue.unservedcall", 1, uid(3),
                                               reason="JOINEMPTY"))
    t = queue(stores, 100)["today"]
    assert (t["offered"], t["short_abandoned"], t["abandoned"], t["never_queued"],
            t["unanswered"], t["sl_den"], t["abandon_rate_pct"]) == (3, 1, 0, 1, 3, 0, 0.0)


def test_a_transfer_hands_the_call_on(stores, intake):
    u = uid(3, 10)
    post(intake, login("201", 0), login("202", 0), ev("pbx.queue.enter", 10, u),
         ev("pbx.queue.servedcall", 14, u, member_exten="201"))
    post(intake, ev("pbx.call.transfer-succeeded", 60, u, member_exten="201",
                    transfer_recipient="202"))
    assert agent(stores, 62, "201")["state"] == "wrapup"
    b = agent(stores, 62, "202")
    assert (b["state"], b["call"]["unique_id"]) == ("talking", u)
    assert queue(stores, 62)["talking"] == 0  # the queue's agent is done with it
    post(intake, ev("pbx.call.end", 200, u))
    assert agent(stores, 300, "202")["state"] == "available"
    t = queue(stores, 300)["today"]
    assert (t["answered"], agent(stores, 300, "201")["calls_today"]) == (1, 1)


CALL = [ev("pbx.queue.enter", 10, uid(5, 10), caller="0461123456"),
        ev("pbx.queue.ringmember", 12, uid(5, 10), member_exten="201"),
        ev("pbx.queue.ringnoanswer", 27, uid(5, 10), member_exten="201"),
        ev("pbx.queue.ringmember", 30, uid(5, 10), member_exten="202"),
        ev("pbx.queue.servedcall", 35, uid(5, 10), member_exten="202"),
        ev("pbx.call.end", 95, uid(5, 10))]


def _as_tenant(events: list[dict], tenant: str) -> list[dict]:
    return [{**e, "tenant": tenant} for e in events]


def _final(stores, tenant: str) -> tuple:
    s = snap(stores, 300, tenant)
    q = s["queues"][0]
    return (counters(q), q["waiting"], q["talking"],
            sorted((a["agent"], a["state"], a["calls_today"]) for a in s["agents"]))


def test_duplicates_change_nothing(stores, intake):
    logins = [login("201", 0), login("202", 0)]
    post(intake, *_as_tenant(logins + CALL, "once"))
    post(intake, *_as_tenant(logins + CALL + CALL, "twice"))
    for e in CALL:
        post(intake, *_as_tenant([e], "twice"))
    assert _final(stores, "twice") == _final(stores, "once")
    assert _final(stores, "once")[0]["answered"] == 1


def test_any_order_gives_the_same_state(stores, intake):
    """Every order of the call's events, each event its own commit, ends in the same state."""
    logins = [login("201", 0), login("202", 0)]
    post(intake, *_as_tenant(logins + CALL, "ref"))
    want = _final(stores, "ref")
    orders = list(itertools.permutations(range(len(CALL))))
    for i, order in enumerate(random.Random(5).sample(orders, 24)):
        tenant = f"p{i}"
        post(intake, *_as_tenant(logins, tenant))
        for k in order:
            post(intake, *_as_tenant([CALL[k]], tenant))
        assert _final(stores, tenant) == want, order


def test_missing_events_are_assumed_and_said(stores, intake):
    u = uid(6, 10)
    # no login, no unserved: a ring means logged in, an end in the queue means abandoned
    post(intake, ev("pbx.queue.enter", 10, u), ev("pbx.queue.ringmember", 12, u,
                                                   member_exten="203"))
    a = agent(stores, 13, "203")
    assert (a["state"], a["assumed"]) == ("ringing", ["no_login"])
    post(intake, ev("pbx.call.end", 40, u))
    q = queue(stores, 41)
    assert q["today"]["abandoned"] == 1 and agent(stores, 41, "203")["state"] == "available"
    with stores.ops_read() as c:
        from pbxlens.store import schema

        assert c.execute(schema.live_visits.select()).mappings().one()["assumed"] == "no_exit"
    # the unserved event comes late and corrects the outcome and the counters
    post(intake, ev("pbx.queue.unservedcall", 39, u, reason="TIMEOUT"))
    t = queue(stores, 41)["today"]
    assert (t["abandoned"], t["unanswered"], t["offered"]) == (0, 1, 1)


def test_stale_events_do_not_override_newer_ones(stores, intake):
    post(intake, login("201", 0), ev("pbx.queuemember.pause", 50, member_exten="201",
                                     reason="break"))
    post(intake, ev("pbx.queuemember.unpause", 40, member_exten="201"))  # older: ignored
    assert agent(stores, 60, "201")["reason"] == "break"
    post(intake, ev("pbx.queuemember.removed", 100, member_exten="201"))
    post(intake, login("201", 90))  # a login older than the logout
    assert agent(stores, 110, "201")["state"] == "logged_out"
    # a ring heard after its call's end makes no ghost
    u = uid(7, 200)
    post(intake, login("202", 150), ev("pbx.queue.enter", 200, u),
         ev("pbx.call.end", 230, u))
    post(intake, ev("pbx.queue.ringmember", 210, u, member_exten="202"))
    assert agent(stores, 240, "202")["state"] == "available"


def test_rebuild_from_todays_events_gives_the_same_state(stores, intake):
    post(intake, login("201", 0), login("202", 0), *CALL,
         ev("pbx.queuemember.pause", 120, member_exten="201", reason="training"),
         ev("pbx.queue.enter", 130, uid(8, 130)))
    before = snap(stores, 200)
    with stores.ops_write() as c:
        n = state.rebuild(c, at(200))
    assert n == 10 and snap(stores, 200) == before


def test_a_call_with_no_end_expires(stores, intake):
    u = uid(9, 10)
    post(intake, login("201", 0), ev("pbx.queue.enter", 10, u),
         ev("pbx.queue.servedcall", 20, u, member_exten="201"))
    with stores.ops_write() as c:
        assert state.expire(c, at(20) + timedelta(hours=5), timedelta(hours=4)) == 1
    later = 20 + 5 * 3600
    a = agent(stores, later, "201")
    assert (a["state"], a["assumed"]) == ("available", ["expired"])
    assert queue(stores, later)["talking"] == 0


def test_expiry_read_before_its_transaction_spares_a_call_with_news_since(stores):
    """The upkeep reads what is due without the write lock (`expiry_due`), then expires in
    a short write transaction only the calls still without news."""
    quiet, news = uid(9, 10), uid(10, 10)

    def arrive(s: float, *evs) -> None:  # applied as if received `s` s after T0
        rows = parse_events(json.dumps(list(evs)).encode())
        with stores.ops_write() as c:
            state.apply_events(c, [state.normalize(r, at(s)) for r in rows], at(s))

    arrive(10, ev("pbx.queue.enter", 10, quiet), ev("pbx.queue.enter", 10, news))
    now = at(20) + timedelta(hours=5)
    with ops.reading(stores.ops) as c:
        due = state.expiry_due(c, now, timedelta(hours=4))
    assert due.stale == {("default", quiet), ("default", news)} and not due.old_days
    arrive(5 * 3600, ev("pbx.queue.ringmember", 5 * 3600 - 60, news,  # news since the read
                        member_exten="201"))
    with stores.ops_write() as c:
        assert state.expire(c, now, timedelta(hours=4), due=due) == 1
    with stores.ops_read() as c:
        open_calls = c.execute(sa.select(schema.live_visits.c.unique_id)
                               .where(schema.live_visits.c.ended_at.is_(None))).scalars()
        assert list(open_calls) == [news]
    assert hub.upkeep(stores, now) == 0  # nothing due: no write transaction at all


def test_a_fault_in_the_live_state_never_fails_the_inbox(stores, intake, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("bug")

    monkeypatch.setattr(state, "apply", boom)
    intake.accept("events", parse_events(json.dumps([ev("pbx.queue.enter", 1, uid(1))])
                                         .encode()))
    from pbxlens.store import schema

    with stores.ops_read() as c:
        assert c.execute(schema.event_inbox.select()).first() is not None


def test_a_per_queue_definition_sets_the_threshold(stores, intake):
    from pbxlens.reports import definitions

    definitions.set_definition(stores, "default", "700", threshold_s=5, target_pct=90,
                               variant="answered", short_abandon_s=3)
    u1, u2 = uid(1, 10), uid(2, 20)
    post(intake, login("201", 0),
         ev("pbx.queue.enter", 10, u1), ev("pbx.queue.servedcall", 14, u1, member_exten="201"),
         ev("pbx.call.end", 30, u1),
         ev("pbx.queue.enter", 40, u2), ev("pbx.queue.servedcall", 50, u2, member_exten="201"))
    t = queue(stores, 60)["today"]
    assert (t["answered"], t["sl_hit"], t["sl_pct"], t["threshold_s"], t["target_pct"],
            t["sl_variant"], t["sl_ok"]) == (2, 1, 50.0, 5, 90, "answered", False)


def test_a_call_entering_the_same_queue_twice_counts_twice(stores, intake):
    u = uid(1, 10)
    post(intake, ev("pbx.queue.enter", 10, u),
         ev("pbx.queue.unservedcall", 11, u, reason="JOINEMPTY"),
         ev("pbx.queue.enter", 40, u), ev("pbx.queue.unservedcall", 41, u, reason="JOINEMPTY"))
    assert queue(stores, 60)["today"]["offered"] == 2


REENTRY = [ev("pbx.queue.enter", 10, uid(4, 10)),
           ev("pbx.queue.servedcall", 14, uid(4, 10), member_exten="201", wait=4),
           ev("pbx.call.transfer-succeeded", 30, uid(4, 10), member_exten="201"),
           ev("pbx.queue.enter", 31, uid(4, 10)),
           ev("pbx.queue.ringmember", 33, uid(4, 10), member_exten="202"),
           ev("pbx.queue.unservedcall", 51, uid(4, 10), reason="CANCELLED", wait=20),
           ev("pbx.call.end", 51, uid(4, 10))]


def test_a_call_transferred_back_to_its_queue_is_two_visits_in_any_order(stores, intake):
    """Answered, transferred back into the same queue, abandoned there: one answered and one
    abandoned visit, whatever order and however often the events come."""
    logins = [login("201", 0), login("202", 0)]
    post(intake, *_as_tenant(logins + REENTRY, "ref"))
    want = _final(stores, "ref")
    assert {k: want[0][k] for k in ("offered", "answered", "abandoned", "asa_s",
                                    "longest_wait_s")} == {
        "offered": 2, "answered": 1, "abandoned": 1, "asa_s": 4, "longest_wait_s": 20}
    orders = list(itertools.permutations(range(len(REENTRY))))
    for i, order in enumerate(random.Random(7).sample(orders, 24)):
        tenant = f"r{i}"
        post(intake, *_as_tenant(logins, tenant))
        for k in order:
            post(intake, *_as_tenant([REENTRY[k]], tenant))
        post(intake, *_as_tenant([REENTRY[order[0]]], tenant))  # and one again
        assert _final(stores, tenant) == want, order


def test_a_reentry_heard_before_its_entry_counts_once(stores, intake):
    u = uid(2, 10)
    post(intake, ev("pbx.queue.enter", 10, u),
         ev("pbx.queue.unservedcall", 20, u, reason="TIMEOUT"))
    post(intake, ev("pbx.queue.ringmember", 45, u, member_exten="201"))  # the second visit
    post(intake, ev("pbx.queue.enter", 40, u))
    t = queue(stores, 50)["today"]
    assert (t["offered"], t["unanswered"], queue(stores, 50)["waiting"]) == (2, 1, 1)


def test_the_hub_shares_one_snapshot_and_its_upkeep_expires_stale_calls(stores, intake):
    from pbxlens.live import hub

    post(intake, login("201", 0), ev("pbx.queue.enter", 10, uid(1, 10)),
         ev("pbx.queue.servedcall", 15, uid(1, 10), member_exten="201"))
    h = hub.Hub(stores, tick_s=60)
    seen = []
    h.listeners.append(lambda snaps, now: seen.append(now))
    snap = h.tick(at(20))
    assert h.current() == (snap, at(20)) and seen == [at(20)]
    assert snap["default"]["queues"][0]["talking"] == 1
    assert hub.upkeep(stores, at(20) + timedelta(hours=5)) == 1
    assert h.tick(at(20) + timedelta(hours=5))["default"]["queues"][0]["talking"] == 0


def test_a_queue_definition_classifies_its_answers_and_abandons(stores, intake):
    """The queue's own service level and short-abandon cutoff (read only when a visit ends:
    an enter or a ring reads no definition) decide its counters; another queue keeps the
    defaults."""
    from pbxlens.reports import definitions

    definitions.set_definition(stores, "default", "700", threshold_s=5, target_pct=80,
                               variant="abandon_aware", short_abandon_s=2)
    a, b, c = uid(1, 10), uid(2, 10), uid(3, 10)
    post(intake, login("201", 0), ev("pbx.queue.enter", 10, a), ev("pbx.queue.enter", 10, b),
         ev("pbx.queue.enter", 10, c, queue="701"))
    post(intake, ev("pbx.queue.servedcall", 16, a, member_exten="201", member_account="201"),
         ev("pbx.queue.servedcall", 16, c, queue="701", member_exten="201",
            member_account="201"))
    post(intake, ev("pbx.call.end", 13, b))  # gone after 3 s: past the 2-s cutoff
    got = counters(queue(stores, 20))
    assert (got["answered"], got["sl_hit"], got["abandoned"], got["short_abandoned"]) == \
        (1, 0, 1, 0)  # 6 s > the queue's 5 s: late
    other = counters(queue(stores, 20, q="701"))
    assert (other["answered"], other["sl_hit"]) == (1, 1)  # the default threshold
