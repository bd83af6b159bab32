"""Webhook endpoints against the real running server: tokens, size and depth limits, XML
attacks, duplicates, malformed bodies (400 + quarantine), the inbox (committed before the answer,
in DuckDB after the move) and CDR reconciliation."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
import sqlalchemy as sa

from pbxlens.ingest import inbox
from pbxlens.store import schema

EV, DR, FB = "/api/events", "/voipToCall/kalliopeToCall/insert/", "/voip/apiInstradamento/instradamento"
TOKENS = {"EVENTS": "ev-secret-1", "DYNAMIC_ROUTING": "dr-secret-2", "FEEDBACK": "fb-secret-3"}

DR_BODY = """<?xml version="1.0"?>
<parameters>
<unique_id>{uid}</unique_id>
<caller>3331234567</caller>
<called>0501234567</called>
<servicecode>%PARAM1%</servicecode>
<param1>IVR-Giorno-1Caldaie</param1>
<param2>queue</param2>
<param3>%PARAM3%</param3>
<param4>%PARAM4%</param4>
<param5>%PARAM5%</param5>
</parameters>"""

# the seed's malformed feedback body (L7662-7672), tolerated
FB_SEED = """xml version="1.0"?
<parameters></parameters>
<unique_id>{uid}</unique_id>
<caller>340</caller>
<called>045</called>
<param1>{rating}</param1>
<param2>%PARAM2%</param2>
<param3>%PARAM3%</param3>
<param4>%PARAM4%</param4>
<param5>%PARAM5%</param5>
<group>CS</group>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<parameters><unique_id>&lol3;</unique_id><caller>1</caller></parameters>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<parameters><unique_id>1.1</unique_id><caller>&xxe;</caller></parameters>"""


@pytest.fixture(autouse=True)
def tokens(monkeypatch):
    for k, v in TOKENS.items():
        monkeypatch.setenv(f"PBXLENS_WEBHOOK_TOKEN_{k}", v)


@pytest.fixture
def http(live):
    with httpx.Client(base_url=live.base_url, timeout=30) as c:
        yield c


def q(live, sql, params=None):
    with live.store.cursor() as cur:
        return cur.execute(sql, params or []).fetchall()


def settled(live) -> None:
    """Everything acknowledged is in DuckDB, follow-ups included (no blind sleep)."""
    live.app.server.extensions["pbxlens_mover"].drain()


def inbox_rows(live) -> int:
    with live.store.ops_read() as c:
        return c.execute(sa.select(sa.func.count()).select_from(schema.event_inbox)).scalar()


def ev(event_id, name="pbx.queue.servedcall", uid="1511212918.0", **kw):
    return {"event_id": event_id, "event_name": name, "event_severity": 3,
            "event_timestamp": "1511212923.123456", "event_pbx_serial": "KPBX40412345",
            "params": {"unique_id": uid, "queue": "QueueTest", **kw}}


def post_ev(http, body, token=TOKENS["EVENTS"], **kw):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return http.post(EV, content=data, headers={"X-Pbxlens-Token": token,
                                                "Content-Type": "application/json"}, **kw)


def test_token_required_per_source(http, monkeypatch):
    assert post_ev(http, ev(1), token="wrong").status_code == 401
    assert http.post(EV, json=ev(1)).status_code == 401
    # another source's token does not open this one
    assert post_ev(http, ev(1), token=TOKENS["FEEDBACK"]).status_code == 401
    r = http.post(DR, content=DR_BODY.format(uid="1.1"), params={"token": TOKENS["EVENTS"]})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/xml")
    monkeypatch.delenv("PBXLENS_WEBHOOK_TOKEN_FEEDBACK")
    assert http.post(FB, content=FB_SEED.format(uid="1.1", rating=5),
                     params={"token": TOKENS["FEEDBACK"]}).status_code == 403


def test_event_committed_before_answer_then_moved_once(http, live):
    before = inbox_rows(live)
    r = post_ev(http, ev(9001))
    assert r.status_code == 200 and r.json() == {"accepted": 1}
    assert inbox_rows(live) == before + 1  # committed to the inbox before the answer
    # the mover brings it into DuckDB by itself within about a second
    deadline = time.monotonic() + 10
    while not q(live, "SELECT 1 FROM pbx_events WHERE event_key = '9001'"):
        assert time.monotonic() < deadline, inbox.backlog(live.store.ops)
        time.sleep(0.05)
    assert q(live, "SELECT event_name, severity, unique_id FROM pbx_events WHERE event_key = '9001'") == [
        ("pbx.queue.servedcall", 3, "1511212918.0")]
    r = post_ev(http, ev(9001))  # a repeat is acknowledged ...
    assert r.status_code == 200 and r.json() == {"accepted": 1}
    r = post_ev(http, [ev(9002), ev(9002), ev(9001), ev(9003, "pbx.queue.enter")])
    assert r.json() == {"accepted": 4}
    settled(live)  # ... and stored once
    assert q(live, "SELECT count(*) FROM pbx_events WHERE event_key IN ('9001','9002','9003')") == [(3,)]


def test_event_basic_auth_and_params_as_string(http, live):
    body = ev(9010)
    body["params"] = json.dumps(body["params"])  # %event_params[JSON]% pasted as a string
    basic = base64.b64encode(f"pbx:{TOKENS['EVENTS']}".encode()).decode()
    r = http.post(EV, content=json.dumps(body), headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200
    settled(live)
    assert q(live, "SELECT params->>'queue' FROM pbx_events WHERE event_key = '9010'") == [("QueueTest",)]


@pytest.mark.parametrize("body,reason", [
    (b'{"event_id": 1, "event_name": ', "invalid JSON"),
    (b'[]', "empty event batch"),
    (b'{"event_id": 5}', "event_name is missing"),
    (b'[{"event_id": 5, "event_name": "x"}, 3]', "event 2: not a JSON object"),
    (b'{"event_id": "abc", "event_name": "x"}', "event_id is not an integer"),
    (b'{"event_id": 6, "event_name": "x", "event_severity": 9}', "event_severity"),
    (b'{"event_id": 7, "event_name": "x", "event_timestamp": "yesterday"}', "event_timestamp"),
    (b'\xff\xfe{', "not UTF-8"),
    (b'{"event_id": 8, "event_name": "x", "params": {"v": NaN}}', "NaN is not a number"),
    (b'{"event_id": 123456789012345678901234567890, "event_name": "x"}', "event_id out of range"),
])
def test_malformed_event_is_400_and_quarantined(http, live, body, reason):
    settled(live)
    before = q(live, "SELECT count(*) FROM quarantine WHERE source = 'webhook:events'")[0][0]
    stored = q(live, "SELECT count(*) FROM pbx_events")
    r = post_ev(http, body)
    assert r.status_code == 400 and reason in r.json()["reason"]
    settled(live)
    rows = q(live, "SELECT reason FROM quarantine WHERE source = 'webhook:events'")
    assert len(rows) == before + 1 and any(reason in x[0] for x in rows)
    assert q(live, "SELECT count(*) FROM pbx_events") == stored


@pytest.mark.parametrize("body,status,reason", [
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested 100000 levels deep"),
    (json.dumps(ev(31, deep=json.loads("[" * 70 + "]" * 70))).encode(), 400, "nested 72 levels"),
    # brackets inside a string do not count: this one is refused for what it is
    (b'{"event_id": 1, "event_name": "x", "params": {"s": "' + b"[{" * 100 + b'"', 400,
     "invalid JSON"),
    (json.dumps([ev(40_000 + i) for i in range(10_001)], separators=(",", ":")).encode(), 413,
     "10001 events in one body"),
])
def test_too_deep_or_too_many_refused_nothing_stored(http, live, monkeypatch, body, status,
                                                     reason):
    monkeypatch.setenv("PBXLENS_WEBHOOK_MAX_BYTES", str(4 * 1024 * 1024))
    settled(live)
    stored = q(live, "SELECT count(*) FROM pbx_events")
    r = post_ev(http, body)
    assert r.status_code == status and reason in r.json()["reason"], r.text
    settled(live)
    assert q(live, "SELECT count(*) FROM pbx_events") == stored


def test_brackets_inside_strings_are_not_depth(http, live):
    r = post_ev(http, ev(93033, note="[{" * 500 + "\\\"[["))
    assert r.status_code == 200, r.text
    settled(live)
    assert q(live, "SELECT length(params->>'note') FROM pbx_events WHERE event_key = '93033'") \
        == [(1004,)]


def test_oversized_bodies_refused(http, live, monkeypatch):
    monkeypatch.setenv("PBXLENS_WEBHOOK_MAX_BYTES", "2048")
    big = [ev(20000 + i) for i in range(100)]
    r = post_ev(http, big)
    assert r.status_code == 413
    # chunked (no Content-Length) is cut at the limit too
    r = http.post(EV, content=iter([json.dumps(big).encode()]),
                  headers={"X-Pbxlens-Token": TOKENS["EVENTS"]})
    assert r.status_code == 413
    assert "limited to 2048 bytes" in r.json()["reason"]
    assert post_ev(http, ev(20999)).status_code == 200
    settled(live)
    assert q(live, "SELECT count(*) FROM pbx_events WHERE event_key = '20000'") == [(0,)]


def test_dynamic_routing_insert_idempotent_and_reconciled(http, live):
    uid = q(live, "SELECT unique_id FROM calls ORDER BY unique_id LIMIT 1")[0][0]
    r = http.post(DR, content=DR_BODY.format(uid=uid), params={"token": TOKENS["DYNAMIC_ROUTING"]},
                  headers={"Content-Type": "application/xml"})
    assert r.status_code == 200 and "<value>OK</value>" in r.text
    assert r.headers["content-type"].startswith("application/xml")
    r2 = http.post(DR, content=DR_BODY.format(uid=uid), params={"token": TOKENS["DYNAMIC_ROUTING"]})
    assert r2.status_code == 200 and r2.text == r.text
    settled(live)
    rows = q(live, "SELECT caller, called, servicecode, param1, param2, param3, in_calls"
                   " FROM dynamic_routing_reconciled WHERE unique_id = ?", [uid])
    assert rows == [("3331234567", "0501234567", None, "IVR-Giorno-1Caldaie", "queue", None, True)]
    http.post(DR, content=DR_BODY.format(uid="1999999999.1"), params={"token": TOKENS["DYNAMIC_ROUTING"]})
    settled(live)
    assert q(live, "SELECT in_calls FROM dynamic_routing_reconciled WHERE unique_id = '1999999999.1'") \
        == [(False,)]


@pytest.mark.parametrize("body,reason", [
    (BILLION_LAUGHS, "unsafe XML"),
    (XXE, "unsafe XML"),
    ("<parameters><caller>1</caller></parameters>", "unique_id"),
    ("<parameters><unique_id>1.2</unique_id></parameters>", "caller"),
    ("<parameters><unique_id>1.2</unique_id>", "not well-formed"),
    ("<other/>", "root element"),
    ("", "empty body"),
])
def test_dynamic_routing_rejects(http, live, body, reason):
    r = http.post(DR, content=body, params={"token": TOKENS["DYNAMIC_ROUTING"]})
    assert r.status_code == 400 and reason in r.text, r.text
    assert "root:" not in r.text  # no /etc/passwd content anywhere
    settled(live)
    assert q(live, "SELECT count(*) FROM quarantine WHERE source = 'webhook:dynamic_routing'"
                   " AND reason LIKE ?", [f"%{reason}%"])[0][0] >= 1


def test_feedback_log_and_ratings(http, live):
    tok = {"X-Pbxlens-Token": TOKENS["FEEDBACK"]}
    for uid, rating in [("1674057020.5505", 5), ("1674056919.5504", 4), ("1674056919.5504", 4),
                        ("1674056000.5503", 9)]:
        r = http.post(FB, content=FB_SEED.format(uid=uid, rating=rating), headers=tok)
        assert r.status_code == 200 and "<value>OK</value>" in r.text
    well_formed = ("<?xml version=\"1.0\"?><parameters><unique_id>1674057020.5505</unique_id>"
                   "<caller>340</caller><called>045</called><param1>3</param1><group>CS</group></parameters>")
    assert http.post(FB, content=well_formed, headers=tok).status_code == 200
    settled(live)
    rows = q(live, "SELECT unique_id, grp, rating FROM feedback_requests ORDER BY unique_id, rating")
    assert rows == [("1674056000.5503", "CS", None), ("1674056919.5504", "CS", 4),
                    ("1674057020.5505", "CS", 3), ("1674057020.5505", "CS", 5)]
    assert http.post(FB, content=BILLION_LAUGHS, headers=tok).status_code == 400


def test_events_reconcile_and_stats(http, live, client_for):
    uid = q(live, "SELECT unique_id FROM calls ORDER BY unique_id DESC LIMIT 1")[0][0]
    post_ev(http, [ev(9100, "pbx.call.end", uid=uid), ev(9101, "pbx.call.end", uid="1.999")])
    settled(live)
    rows = q(live, "SELECT event_key, in_calls FROM pbx_events_reconciled"
                   " WHERE event_key IN ('9100', '9101') ORDER BY 1")
    assert rows == [("9100", True), ("9101", False)]
    assert client_for().get("/api/events/stats").status_code == 401
    for name in ("op", "fin"):
        assert client_for(name).get("/api/events/stats").status_code == 403
    assert client_for("sup").get("/api/events/stats").status_code == 200
    stats = client_for("admin").get("/api/events/stats").json()
    assert stats["events"]["pbx.call.end"]["in_calls"] >= 1
    assert stats["inbox"]["pending"] == 0 and stats["inbox"]["moves"] >= 1
    assert stats["lag_s"]["events"] >= 2 and 0 <= stats["lag_s"]["p99"] < 30
    # the rest of the app is still behind the guard
    assert http.get("/api/reports").status_code == 401
