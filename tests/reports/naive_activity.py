"""Naive pure-Python recomputation of cc.agent_activity and feedback.service from the
simulator's files (events.jsonl, cdr_detailed.csv, feedback_requests.ndjson).

Written independently from the SQL: per member and queue, the events are walked in time order
with two flags (logged in, paused); intervals are cut by stepping a 15-minute UTC grid (every
real UTC offset is a multiple of 15 minutes) and asking zoneinfo for the local hour of each
piece.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import naive

TZ = ZoneInfo("Europe/Rome")
ACTIONS = {"pbx.queuemember.added": "added", "pbx.queuemember.removed": "removed",
           "pbx.queuemember.pause": "pause", "pbx.queuemember.unpause": "unpause"}


def read_events(path: Path) -> list[dict]:
    out = []
    seen = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        ev = json.loads(line)
        if ev["event_name"] not in ACTIONS:
            continue
        key = (ev.get("event_pbx_serial", ""), ev["event_id"])
        if key in seen:
            continue
        seen.add(key)
        p = ev["params"]
        out.append({"ts": int(float(ev["event_timestamp"])), "id": int(ev["event_id"]),
                    "action": ACTIONS[ev["event_name"]],
                    "member": p.get("member_account") or p.get("member_exten"),
                    "exten": p.get("member_exten"), "queue": p.get("queue") or p.get("queue_name"),
                    "reason": p.get("reason") or ""})
    return out


def intervals(events: list[dict], now: int) -> list[tuple]:
    """[(exten, queue, kind, reason, start, end)] with end = now for open intervals."""
    queues_of: dict[str, set] = defaultdict(set)
    for e in events:
        if e["queue"]:
            queues_of[e["member"]].add(e["queue"])
    per: dict[tuple, list] = defaultdict(list)
    exten = {}
    for e in events:
        exten.setdefault(e["member"], e["exten"] or e["member"])
        for q in ([e["queue"]] if e["queue"] else sorted(queues_of[e["member"]])):
            per[(e["member"], q)].append(e)
    out = []
    for (m, q), evs in per.items():
        evs.sort(key=lambda e: (e["ts"], e["id"]))
        logged, login_start = False, 0
        logins = []
        paused, pause_start, reason = False, 0, ""
        pauses = []
        for e in evs:
            a = e["action"]
            if a == "added" and not logged:
                logged, login_start = True, e["ts"]
            elif a == "removed" and logged:
                logged = False
                logins.append((login_start, e["ts"]))
            if a == "pause" and not paused:
                paused, pause_start, reason = True, e["ts"], e["reason"]
            elif a in ("unpause", "removed") and paused:
                paused = False
                pauses.append((pause_start, e["ts"], reason))
        if logged:
            logins.append((login_start, now))
        if paused:
            pauses.append((pause_start, now, reason))
        for s, t in logins:
            if t > s:
                out.append((exten[m], q, "logged", "", s, t))
            for ps, pt, r in pauses:
                a, b = max(s, ps), min(t, pt)
                if a < b:
                    out.append((exten[m], q, "paused", r, a, b))
    return out


def pieces(s: int, t: int):
    """(local day, local hour, seconds, starts) of [s, t) cut at local hour borders."""
    cur = s
    first = True
    while cur < t:
        nxt = (cur // 900 + 1) * 900
        while nxt < t:
            lt = datetime.fromtimestamp(nxt, TZ)
            if lt.minute == 0 and lt.second == 0:
                break
            nxt += 900
        nxt = min(nxt, t)
        lt = datetime.fromtimestamp(cur, TZ)
        yield lt.date(), lt.hour, nxt - cur, 1 if first else 0
        first = False
        cur = nxt


def local_epoch(s: str) -> int:
    return int(datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=TZ).timestamp())


def talk_intervals(calls) -> list[tuple]:
    """[(exten, queue, start, end)] of answered queue legs (the CDR's operator legs)."""
    out = []
    for _call, legs in calls:
        cur_q = None
        for lg in legs:
            t = lg["detail_destination_type"]
            if t == "queue":
                cur_q = lg
                continue
            if t != "local_exten" or cur_q is None:
                continue
            en = naive.ts(lg["detail_enter_datetime"])
            if not (naive.ts(cur_q["detail_enter_datetime"]) <= en
                    <= naive.ts(cur_q["detail_exit_datetime"])
                    and lg["detail_source_num"] == cur_q["detail_source_num"]):
                continue
            qkey = cur_q["detail_destination_id"] or cur_q["detail_destination_name"]
            if not qkey or naive.leg_block(lg["detail_exit_cause"], True) not in naive.ANSWERED:
                continue
            talk = naive.secs(naive.ts(lg["detail_answer_datetime"]),
                              naive.ts(lg["detail_exit_datetime"]))
            if talk > 0:
                a = local_epoch(lg["detail_answer_datetime"])
                out.append((lg["detail_destination_id"], qkey, a, a + talk))
    return out


def activity(events: list[dict], calls, d_from: date, d_to: date, now: int) -> dict:
    """{(op, queue, 'day'|'hr', slot): {field: value}}; reason fields are 'pause <reason>'."""
    cells: dict = defaultdict(lambda: defaultdict(int))

    def add(op, q, d, h, f, v):
        if d_from <= d <= d_to:
            for k, slot in (("day", d.isoformat()), ("hr", h)):
                cells[(op, q, k, slot)][f] += v

    for op, q, kind, reason, s, t in intervals(events, now):
        for d, h, secs, st in pieces(s, t):
            if kind == "logged":
                add(op, q, d, h, "logged", secs)
                add(op, q, d, h, "logins", st)
            else:
                add(op, q, d, h, "paused", secs)
                add(op, q, d, h, "pauses", st)
                add(op, q, d, h, f"pause {reason or '(no reason)'}", secs)
    for op, q, s, t in talk_intervals(calls):
        for d, h, secs, st in pieces(s, t):
            add(op, q, d, h, "talk", secs)
            add(op, q, d, h, "calls", st)
    return cells


_P1 = re.compile(r"<param1>(.*?)</param1>", re.S)


def feedback(path: Path, call_days: dict[str, date], calls_in_queue: dict[str, set],
             d_from: date, d_to: date, queue: str | None = None) -> dict[int, int]:
    """{rating: calls} of the valid ratings (1-6) of the requests, dated by the call's day."""
    out: dict[int, int] = defaultdict(int)
    for line in path.read_text(encoding="utf-8").splitlines():
        req = json.loads(line)
        v = _P1.search(req["body"]).group(1).strip()
        if v not in {"1", "2", "3", "4", "5", "6"}:
            continue
        d = call_days[req["unique_id"]]
        if not d_from <= d <= d_to:
            continue
        if queue is not None and queue not in calls_in_queue.get(req["unique_id"], set()):
            continue
        out[int(v)] += 1
    return out
