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
