"""The simulator's event log and feedback requests: deterministic, leave the CDR unchanged,
and consistent with the truth (pauses inside logins; no queue presents a call to a member
during a pause; call events match the calls)."""

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


def _paused_intervals(evs) -> dict[tuple, list[tuple[int, int, str | None]]]:
    """(member, queue or None) -> [(start ms, end ms, reason)], checking the log's grammar:
    pauses only while logged in to that queue (or, queue-less, to any), never twice."""
    state: dict[tuple, int] = {}
    open_pause: dict[tuple, tuple[int, str | None]] = {}
    out: dict[tuple, list] = {}
    for e in evs:
        name = e["event_name"]
        if not name.startswith("pbx.queuemember."):
            continue
        p = e["params"]
        key = (p["member_exten"], p.get("queue"))
        ms = round(float(e["event_timestamp"]) * 1000)
        if name.endswith("added"):
            assert key not in state
            state[key] = ms
        elif name.endswith("removed"):
            assert key in state and key not in open_pause
            del state[key]
        elif name.endswith(".pause"):
            assert key not in open_pause, key
            if key[1] is not None:
                assert key in state  # paused while logged in to that queue
            else:
                assert any(k[0] == key[0] for k in state)
            open_pause[key] = (ms, p.get("reason"))
        else:
            s, reason = open_pause.pop(key)
            out.setdefault(key, []).append((s, ms, reason))
    assert not state and not open_pause
    return out


def test_pauses_inside_logins_and_no_queue_call_while_paused(tmp_path):
    generate(tmp_path, formats=["events", "feedback"], **KW)
    truth = simulate(**KW)
    evs = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    ids = [e["event_id"] for e in evs]  # one counter from the run's first midnight
    assert ids == list(range(ids[0], ids[0] + len(ids))) and ids[0] > 10**15
    assert [float(e["event_timestamp"]) for e in evs] == sorted(
        float(e["event_timestamp"]) for e in evs)
    names = {e["event_name"] for e in evs}
    assert {f"pbx.queuemember.{n}" for n in ("added", "removed", "pause", "unpause")} <= names
    assert {"cti.client.login", "cti.client.logoff", "pbx.call.start", "pbx.call.end",
            "pbx.queue.enter", "pbx.queue.enqueue", "pbx.queue.ringmember",
            "pbx.queue.ringnoanswer", "pbx.queue.servedcall", "pbx.queue.unservedcall"} <= names
    paused = _paused_intervals(evs)
    reasons = {r for ivs in paused.values() for _s, _e, r in ivs}
    assert {"break", "lunch", "wrap-up", None} <= reasons
    n = 0
    for call in truth.calls:
        for lg in call.legs:
            if lg.visit is None:
                continue
            for key in ((lg.op, lg.queue), (lg.op, None)):
                for s, e, _r in paused.get(key, []):
                    # a pause may begin during a call (it stops the next presentations)
                    assert not s <= lg.t_enter < e, (lg, key, s, e)
                    n += 1
    assert n > 0
    starts = sum(1 for e in evs if e["event_name"] == "pbx.call.start")
    assert starts == len(truth.calls)
    fb = [json.loads(x) for x in (tmp_path / "feedback_requests.ndjson").read_text().splitlines()]
    assert fb and all("<group>CS</group>" in r["body"] for r in fb)


def test_runs_of_different_days_share_no_event_key():
    """A store fed one run (a month) and then another (today's live feed, or the next day's)
    keeps both: with ids 1, 2, ... in every run, the second run's events were dropped as
    resends of the first's (same PBX serial, same id). The two runs here even overlap (the
    first's night shift ends on the second's day)."""
    from pbxlens.simulate.live_events import live_run

    one, two = (live_run(start=date(2026, 5, d), calls_per_day=60, seed=s)
                for d, s in ((11, 11), (12, 5)))
    keys = [{(e["event_pbx_serial"], e["event_id"]) for e in run} for run in (one, two)]
    assert keys[0] and keys[1] and not keys[0] & keys[1]
