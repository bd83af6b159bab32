"""Call journeys of hand-built calls: IVR, queue, ringall, an attended transfer, an abandoned
call whose callback request was booked and closed by a callback, a ticket; repeat callers and
first-contact resolution; on both operations-store back-ends."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from pbxlens.ingest import ingest_paths
from pbxlens.reports import journey
from pbxlens.store import Stores
from pbxlens.store import schema as S
from tests import templates

from .conftest import CdrBuilder, ext, q

DAY = date(2026, 5, 4)
ROSSI, BIANCHI = "3331234567", "0212345678"


def hand_calls() -> CdrBuilder:
    b = CdrBuilder()
    # 1. ROSSI 09:00: IVR, queue 800 rings 301 (answers on its app) and 302 (answered
    #    elsewhere); 301 transfers (attended) to 302
    b.call("2026-05-04 09:00:00", "2026-05-04 09:06:00", [
        {"type": "ivr", "id": "1", "name": "Menu", "enter": "2026-05-04 09:00:00",
         "exit": "2026-05-04 09:00:10", "cause": "NCC"},
        q("2026-05-04 09:00:10", "2026-05-04 09:03:00", "ATXFER", "2026-05-04 09:00:40",
          "301-app"),
        ext("301", "2026-05-04 09:00:15", "2026-05-04 09:03:00", "ATXFER",
            "2026-05-04 09:00:40", "301-app"),
        ext("302", "2026-05-04 09:00:15", "2026-05-04 09:00:40", "ANSWERED_ELSEWHERE"),
        ext("302", "2026-05-04 09:02:30", "2026-05-04 09:06:00", "NCC", "2026-05-04 09:02:35",
            "302", src="301"),
    ], caller=ROSSI, answer="2026-05-04 09:00:40", up="2026-05-04 09:00:00", bill="320.000",
        answered_by="301-app")
    # 2. ROSSI again at 11:00: abandons in the queue after 30 s (a callback request)
    b.call("2026-05-04 11:00:00", "2026-05-04 11:00:30", [
        q("2026-05-04 11:00:00", "2026-05-04 11:00:30", "CANCELED"),
        ext("301", "2026-05-04 11:00:05", "2026-05-04 11:00:30", "CANCELED"),
    ], caller=ROSSI, status="CANCELED", up="2026-05-04 11:00:00")
    # 3. 301 calls ROSSI back at 11:20 (answered): the callback
    b.call("2026-05-04 11:20:00", "2026-05-04 11:25:00", [
        {"type": "obl", "id": "Uscita", "enter": "2026-05-04 11:20:01",
         "answer": "2026-05-04 11:20:11", "exit": "2026-05-04 11:25:00", "cause": "NCC",
         "by": ROSSI}], src="local_exten", dst="obl", caller="301", called=ROSSI,
        answer="2026-05-04 11:20:11", up="2026-05-04 11:20:11", bill="289.000", peer="301")
    # 4. BIANCHI once, answered directly by the queue (resolved at first contact)
    b.call("2026-05-04 15:00:00", "2026-05-04 15:04:00", [
        q("2026-05-04 15:00:00", "2026-05-04 15:04:00", "NCC", "2026-05-04 15:00:05", "303"),
        ext("303", "2026-05-04 15:00:01", "2026-05-04 15:04:00", "NCC", "2026-05-04 15:00:05",
            "303"),
    ], caller=BIANCHI, answer="2026-05-04 15:00:05", up="2026-05-04 15:00:00", bill="235.000",
        answered_by="303")
    return b


@pytest.fixture
def journey_stores(tmp_path, ops_url, request):
    templates.migrated(tmp_path / "store.duckdb", ops_url, request)
    s = Stores(tmp_path / "store.duckdb", ops_url)
    hand_calls().write(tmp_path / "src")
    with s.writing() as cur:
        ingest_paths(cur, [tmp_path / "src"])
    yield s
    s.close()


def _uid(stores, hhmm: str) -> str:
    with stores.cursor() as cur:
        return cur.execute("SELECT unique_id FROM calls WHERE strftime(start_local, '%H:%M') = ?",
                           [hhmm]).fetchone()[0]


def test_the_path_of_a_transferred_call(journey_stores):
    s = journey_stores
    with s.cursor() as cur:
        j = journey.journey(cur, _uid(s, "09:00"), stores=s)
    kinds = [(st.kind, st.level) for st in j.steps]
    assert kinds == [("ivr", 0), ("queue", 0), ("agent", 1), ("transfer", 1), ("agent", 1),
                     ("agent", 0)]
    ivr, visit, a301, xfer, a302, target = j.steps
    assert ivr.label == "Menu" and (ivr.detail["choice_kind"], ivr.detail["choice"]) == (
        "queue", "Coda Test")
    assert visit.label == "Coda Test" and visit.wait_s == 30 and visit.answered is True
    assert visit.outcome == "ATXFER"
    assert (a301.label, a301.answered, a301.detail["account"]) == ("Tre Account", True,
                                                                   "301-app")
    assert xfer.outcome == "attended" and xfer.label == "Due" and xfer.detail["by"] == "301"
    assert (a302.answered, a302.detail["block"]) == (False, "ANSWERED ELSEWHERE")
    assert (target.answered, target.detail["transferred_by"], target.talk_s) == (True, "301",
                                                                                 205)
    assert j.callback is None and j.tickets == [] and j.recording is None
    assert j.repeat is False and j.fcr is False  # ROSSI called again two hours later


def test_callback_booking_history_and_ticket_of_a_call(journey_stores):
    s = journey_stores
    missed, callback = _uid(s, "11:00"), _uid(s, "11:20")
    t0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # 11:00 Rome
    with s.ops_write() as c:
        c.execute(S.callback_requests.insert().values(
            tenant="default", request_key=f"{ROSSI}|{missed}", token="tok1", call_num=ROSSI,
            first_call=t0, last_call=t0, num_calls=1, num_recalled=0, queue="Coda Test",
            type="queue", source="cdr", state="closed", closure="handled_with_callback",
            closed_at=datetime(2026, 5, 4, 9, 20, 11, tzinfo=UTC), closed_by=callback,
            recall_s=1200, updated_at=t0))
        c.execute(S.missed_bookings.insert().values(
            tenant="default", call_num=ROSSI, booked_by="anna", extension="301",
            booked_at=datetime(2026, 5, 4, 9, 10, tzinfo=UTC)))
        c.execute(S.missed_history.insert(), [
            {"tenant": "default", "call_num": ROSSI, "request_key": f"{ROSSI}|{missed}",
             "at_ts": datetime(2026, 5, 4, 9, 10, tzinfo=UTC), "actor": "anna",
             "action": "book"},
            {"tenant": "default", "call_num": ROSSI, "request_key": f"{ROSSI}|other",
             "at_ts": datetime(2026, 5, 5, 9, 10, tzinfo=UTC), "actor": "anna",
             "action": "book"}])
        tid = c.execute(S.tickets.insert().values(
            tenant="default", number="T-1", title="reclamo", account_id=1, final_customer_id=1,
            priority="normale", type="assistenza", created_at=t0, updated_at=t0)
            .returning(S.tickets.c.id)).scalar_one()
        c.execute(S.ticket_calls.insert().values(ticket_id=tid, unique_id=missed))
    with s.cursor() as cur:
        j = journey.journey(cur, missed, stores=s)
        back = journey.journey(cur, callback, stores=s)
    assert [st.kind for st in j.steps] == ["queue", "agent"]
    assert j.steps[0].outcome == "CANCELED" and j.steps[0].wait_s == 30
    assert j.steps[1].answered is False and j.steps[1].level == 1
    cb = j.callback
    assert cb["role"] == "missed call" and cb["closure"] == "handled_with_callback"
    assert cb["recall_s"] == 1200 and cb["booking"] is None  # closed: the booking lapsed
    assert [h["request_key"] for h in cb["history"]] == [f"{ROSSI}|{missed}"]
    assert [t["number"] for t in j.tickets] == ["T-1"]
    assert j.repeat is True and j.fcr is None  # unanswered: no resolution to judge
    assert back.callback["role"] == "callback" and back.steps[0].kind == "outbound"
    # an open request shows its booking
    with s.ops_write() as c:
        c.execute(S.callback_requests.update().values(state="open", closure=None,
                                                      closed_at=None, closed_by=None))
    with s.cursor() as cur:
        assert journey.journey(cur, missed, stores=s).callback["booking"]["booked_by"] == "anna"


def test_repeat_callers_and_first_contact_resolution(journey_stores):
    s = journey_stores
    with s.cursor() as cur:
        rows = {r["started"].strftime("%H:%M"): r for r in journey.journeys(cur, DAY, DAY).rows}
        assert set(rows) == {"09:00", "11:00", "15:00"}  # incoming only by default
        assert (rows["09:00"]["repeat"], rows["09:00"]["fcr"]) == (False, False)
        assert (rows["11:00"]["repeat"], rows["11:00"]["fcr"]) == (True, None)
        assert (rows["15:00"]["repeat"], rows["15:00"]["fcr"]) == (False, True)
        assert rows["09:00"]["queues"] == "Coda Test" and rows["09:00"]["transferred"]
        assert rows["11:00"]["callback"] is True  # reconciled into a callback request
        short = {r["started"].strftime("%H:%M"): r
                 for r in journey.journeys(cur, DAY, DAY, hours=1).rows}
        assert short["11:00"]["repeat"] is False and short["09:00"]["fcr"] is True
        assert [r["unique_id"] for r in journey.journeys(cur, DAY, DAY, repeat_only=True).rows
                ] == [rows["11:00"]["unique_id"]]
        assert len(journey.journeys(cur, DAY, DAY, direction=None).rows) == 4
        assert [r["caller"] for r in journey.journeys(cur, DAY, DAY, number="02 1234").rows
                ] == [BIANCHI]
        with pytest.raises(journey.JourneyError):
            journey.journey(cur, "nope")


def test_recording_link_when_the_pbx_is_configured(journey_stores, monkeypatch):
    from pbxlens.config import get_settings

    monkeypatch.setattr(get_settings(), "pbx_url", "https://pbx.example/")
    s = journey_stores
    uid = _uid(s, "15:00")
    with s.cursor() as cur:
        assert journey.journey(cur, uid).recording == \
            f"https://pbx.example/rest/recordedCall/{uid}"
    with s.ops_read() as c:  # nothing was written to the operations store by reading
        assert c.execute(sa.select(sa.func.count()).select_from(S.callback_requests)
                         ).scalar() == 0
