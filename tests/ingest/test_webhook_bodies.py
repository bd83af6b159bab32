"""Webhook bodies parsed at the edge: nesting depth counted before a parser recurses (strings
and escapes understood), the shapes refused with the status that fits."""

from __future__ import annotations

import json

import pytest

from pbxlens.ingest.webhook_bodies import BadBody, json_depth, parse_events, parse_parameters


@pytest.mark.parametrize("text,depth", [
    ("", 0), ("1", 0), ("[]", 1), ("[[]]", 2), ('{"a": {"b": [1]}}', 3),
    ('["[[[[", "]]"]', 1),            # brackets inside strings
    (r'["\"[[[", "\\", [2]]', 2),     # an escaped quote does not end the string; \\ does
    (r'["\\\"[", [[]]]', 3),          # \\ then \" : still inside the string
    ("[" * 5000 + "]" * 5000, 5000),
])
def test_json_depth(text, depth):
    assert json_depth(text.encode()) == depth
    try:
        parsed = json.loads(text) if text else None
    except (RecursionError, json.JSONDecodeError):
        return
    if text and depth < 500:  # the scan agrees with the parser
        def real(v):
            if isinstance(v, list):
                return 1 + max((real(x) for x in v), default=0)
            if isinstance(v, dict):
                return 1 + max((real(x) for x in v.values()), default=0)
            return 0
        assert real(parsed) == depth


def test_depth_is_checked_before_parsing():
    with pytest.raises(BadBody, match="nested 100000 levels deep; at most 64") as exc:
        parse_events(b"[" * 100_000 + b"]" * 100_000)
    assert exc.value.status == 400
    deep = {"event_id": 1, "event_name": "x", "params": {"a": json.loads("[" * 62 + "]" * 62)}}
    assert len(parse_events(json.dumps(deep).encode())) == 1  # 64 levels: accepted
    deep["params"]["a"] = [deep["params"]["a"]]
    with pytest.raises(BadBody, match="nested 65 levels"):
        parse_events(json.dumps(deep).encode())
    assert parse_events(json.dumps(deep).encode(), max_depth=100)


def test_too_many_events_is_413():
    body = json.dumps([{"event_id": i, "event_name": "x"} for i in range(10_001)]).encode()
    with pytest.raises(BadBody, match="10001 events in one body") as exc:
        parse_events(body)
    assert exc.value.status == 413


def test_xml_with_too_many_tags_is_413():
    body = b"<parameters>" + b"<x/>" * 1500 + b"<unique_id>1</unique_id><caller>1</caller>" \
        b"</parameters>"
    with pytest.raises(BadBody, match="XML tags") as exc:
        parse_parameters(body, feedback=False)
    assert exc.value.status == 413


@pytest.mark.parametrize("event,reason", [
    ("x", "not a JSON object"),
    ({"event_id": 1}, "event_name is missing"),
    ({"event_name": "  "}, "event_name is missing"),
    ({"event_name": "x", "params": "{nope"}, "params is a string but not JSON"),
    ({"event_name": "x", "event_params": [1]}, "params must be an object"),
    ({"event_name": "x", "event_id": 5.5}, "event_id is not an integer: '5.5'"),
    ({"event_name": "x", "event_severity": "high"}, "event_severity must be 0-4"),
    ({"event_name": "pbx.queuemember.pause", "event_timestamp": 1.7e9},
     "pbx.queuemember.pause: no member"),
    ({"event_name": "pbx.queuemember.added", "event_timestamp": 1.7e9,
      "params": {"member_account": "101"}}, "pbx.queuemember.added: no queue"),
    ({"event_name": "pbx.queuemember.added", "params": {"member_account": "101"}},
     "pbx.queuemember.added: event_timestamp is missing"),
])
def test_a_bad_event_is_refused_with_its_reason(event, reason):
    with pytest.raises(BadBody, match=f"^{reason}") as exc:
        parse_events(json.dumps(event).encode())
    assert exc.value.status == 400


def test_an_event_row():
    body = {"event_id": "7", "event_name": " pbx.call.end ", "event_severity": "3",
            "event_timestamp": "2026-01-01T10:00:00", "event_pbx_serial": 42,
            "params": None, "event_params": {"unique_id": "ignored: params wins"},
            "unique_id": "%unique_id%"}
    [row] = parse_events(json.dumps(body).encode())
    assert (row["event_key"], row["event_id"], row["event_name"], row["severity"]) == (
        "7", 7, "pbx.call.end", 3)
    assert (row["pbx_serial"], row["tenant"], row["unique_id"], row["params"]) == (
        "42", "default", None, "{}")
    assert row["event_ts"].isoformat() == "2026-01-01T10:00:00+00:00"


def test_parameters_placeholders_and_rating():
    body = (b"<parameters><unique_id> 1.2 </unique_id><caller>%caller%</caller>"
            b"<param1>6</param1><group>CS</group><tenant>acme</tenant></parameters>")
    row = parse_parameters(body, feedback=True)
    assert (row["unique_id"], row["caller"], row["rating"], row["grp"], row["tenant"]) == (
        "1.2", None, 6, "CS", "acme")
    assert parse_parameters(body.replace(b">6<", b">7<"), feedback=True)["rating"] is None
