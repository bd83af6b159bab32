"""Live calls kept by the event intake in the operations store (both back-ends): start -> a row,
answer -> talking, end -> gone; reordered and duplicated events leave no ghost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pbxlens.ingest import inbox, live_calls
from pbxlens.ingest.webhook_bodies import parse_events

T0 = 1_778_480_000


def ev(eid: int, name: str, uid: str, at: float = 0, called: str = "+39 333 123 4567", **kw):
    return {"event_id": eid, "event_name": name, "event_timestamp": str(T0 + at),
            "event_pbx_serial": "S1", "params": {"unique_id": uid, "called": called, **kw}}


def rows(*events) -> list[dict]:
    return parse_events(json.dumps(list(events)).encode())


@pytest.fixture
def intake(stores):
    ib = inbox.Inbox(stores.ops)
    yield ib
    ib.close()


def state(stores) -> dict[str, str]:
    with stores.ops_read() as c:
        return {r["unique_id"]: r["state"] for r in live_calls.calls(c)}


def test_start_answer_end(stores, intake):
    intake.accept("events", rows(ev(1, "pbx.call.start", "1.1", agent="201")))
    assert state(stores) == {"1.1": "ringing"}
    with stores.ops_read() as c:
        [row] = live_calls.calls(c)
        assert row["called_num"] == "3331234567" and row["agent"] == "201"
        assert live_calls.in_progress(c, "default", "0039 333 1234567")
        assert not live_calls.in_progress(c, "default", "3330000000")
        assert not live_calls.in_progress(c, "acme", "3331234567")
    intake.accept("events", rows(ev(2, "pbx.call.answer", "1.1", at=5)))
    assert state(stores) == {"1.1": "talking"}
    intake.accept("events", rows(ev(3, "pbx.call.end", "1.1", at=60)))
    assert state(stores) == {}
    with stores.ops_read() as c:
        assert not live_calls.in_progress(c, "default", "3331234567")


def test_duplicates_change_nothing(stores, intake):
    intake.accept("events", rows(ev(1, "pbx.call.start", "1.1"), ev(1, "pbx.call.start", "1.1")))
    intake.accept("events", rows(ev(1, "pbx.call.start", "1.1")))
    assert state(stores) == {"1.1": "ringing"}
    end = rows(ev(3, "pbx.call.end", "1.1", at=60))
    intake.accept("events", end)
    intake.accept("events", end)  # the PBX resends
    intake.accept("events", rows(ev(1, "pbx.call.start", "1.1")))  # and the start again
    assert state(stores) == {}


def test_end_before_start_leaves_no_ghost(stores, intake):
    intake.accept("events", rows(ev(3, "pbx.call.end", "2.2", at=60)))  # deletes nothing
    assert state(stores) == {}
    intake.accept("events", rows(ev(1, "pbx.call.start", "2.2")))
    intake.accept("events", rows(ev(2, "pbx.call.answer", "2.2", at=5)))
    assert state(stores) == {}


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 0, 2), (2, 0, 1)])
def test_any_order_inside_one_body(stores, intake, order):
    evs = [ev(1, "pbx.call.start", "3.3"), ev(2, "pbx.call.answer", "3.3", at=5),
           ev(3, "pbx.call.end", "3.3", at=60)]
    intake.accept("events", rows(*[evs[i] for i in order]))
    assert state(stores) == {}
    intake.accept("events", rows(evs[0], evs[1]))  # a resend of the first two after the end
    assert state(stores) == {}


def test_answer_before_start_is_talking(stores, intake):
    intake.accept("events", rows(ev(2, "pbx.call.answer", "4.4", at=5)))
    intake.accept("events", rows(ev(1, "pbx.call.start", "4.4")))
    assert state(stores) == {"4.4": "talking"}
    # an answer of another family marks a known call, never creates one
    intake.accept("events", rows(ev(5, "pbx.queue.servedcall", "5.5")))
    assert "5.5" not in state(stores)


def test_stale_calls_are_pruned(stores):
    now = datetime.fromtimestamp(T0, UTC)
    with stores.ops_write() as c:
        live_calls.apply(c, rows(ev(1, "pbx.call.start", "6.6", at=-5 * 3600),
                                 ev(2, "pbx.call.start", "7.7", at=-60),
                                 ev(3, "pbx.call.end", "8.8", at=-5 * 3600)), now)
    with stores.ops_write() as c:
        assert live_calls.prune(c, now, timedelta(hours=4)) == 1
    assert state(stores) == {"7.7": "ringing"}
