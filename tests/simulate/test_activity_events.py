"""The simulator's queue-member event log and feedback requests: deterministic, leave the CDR
unchanged, and consistent with the truth (pauses inside shifts, never over a ring or a talk)."""

from __future__ import annotations

import json
from datetime import date

from pbxlens.simulate import generate, simulate

KW = dict(days=2, calls_per_day=400, seed=5, start=date(2026, 5, 4))


def test_deterministic_and_cdr_unchanged(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, formats=["csv-detailed", "events", "feedback"], **KW)
    generate(b, formats=["csv-detailed", "events", "feedback"], **KW)
    generate(c, formats=["csv-detailed"], **KW)
    for f in ("events.jsonl", "feedback_requests.ndjson", "cdr_detailed.csv"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "cdr_detailed.csv").read_bytes() == (c / "cdr_detailed.csv").read_bytes()


def test_pauses_inside_logins_and_idle(tmp_path):
    generate(tmp_path, formats=["events", "feedback"], **KW)
    truth = simulate(**KW)
    busy: dict[str, list] = {}
    for call in truth.calls:
        for lg in call.legs:
            if lg.op is not None:
                busy.setdefault(lg.op, []).append((lg.t_enter, lg.t_exit))
    evs = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["event_id"] for e in evs] == list(range(1, len(evs) + 1))
    names = {e["event_name"] for e in evs}
    assert names == {f"pbx.queuemember.{n}" for n in ("added", "removed", "pause", "unpause")}
    state: dict[tuple, int] = {}
    open_pause: dict[tuple, int] = {}
    n_pauses = 0
    for e in evs:
        p = e["params"]
        key = (p["member_exten"], p.get("queue"))
        ms = round(float(e["event_timestamp"]) * 1000)
        if e["event_name"].endswith("added"):
            state[key] = ms
        elif e["event_name"].endswith("removed"):
            assert key in state
            del state[key]
        elif e["event_name"].endswith(".pause"):
            open_pause[key] = ms
        else:
            s = open_pause.pop(key)
            n_pauses += 1
            assert all(x > ms or y < s for x, y in busy.get(p["member_exten"], [])), key
            if key[1] is not None:
                assert key in state  # paused while logged in to that queue
    assert not state and not open_pause and n_pauses > 0
    fb = [json.loads(x) for x in (tmp_path / "feedback_requests.ndjson").read_text().splitlines()]
    assert fb and all("<group>CS</group>" in r["body"] for r in fb)
