"""The PBX's real-time events of a simulated run: what `pbxlens simulate-live` posts and the
live tests replay. Call and queue events are derived from the truth (each call's path lines),
queue-member events are the event log's (`activity.member_events`); one stream, time order.

Per call (parameter names: docs/api.md "Live events"):
- `pbx.call.start` / `pbx.call.end` at its start and end;
- per queue line: `pbx.queue.enter` at its entry, `pbx.queue.enqueue` after the welcome
  message; per operator ring leg of the visit `pbx.queue.ringmember`, then
  `pbx.queue.servedcall` at the answer (with `wait`) or `pbx.queue.ringnoanswer` (with the
  operator outcome as `reason`); an unanswered visit ends with `pbx.queue.unservedcall`
  (`reason` CANCELLED / TIMEOUT / JOINEMPTY, as the PBX spells them, and `wait`);
- an operator's transfer: `pbx.extension.answercall` when the recipient answers and
  `pbx.call.transfer-succeeded` (`member_exten` -> `transfer_recipient`) when the queue
  operator leaves the call.
Instants are the truth's milliseconds; unique ids are the CDR's, so the CDR of the same run
reconciles with the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .activity import BusyLog, event_object, member_events
from .directory import build_directory
from .engine import Engine
from .truth import Call, Leg

UNSERVED_REASON = {"CANCELED": "CANCELLED", "NOANSWER": "TIMEOUT", "JOINEMPTY": "JOINEMPTY"}
DIRECTION = {"in": "in", "out": "out", "internal": "local"}
Raw = tuple[int, int, str, dict]  # (epoch ms, order within the instant, name, params)


@dataclass
class LiveRun:
    calls: list[Call]
    events: list[dict]  # event objects as posted, ids 1.. in time order


def call_events(calls: Iterable[Call], primary: dict[str, str]) -> list[Raw]:
    """The call and queue events of `calls`; `primary` maps an operator extension to its
    first account (the member a queue knows)."""
    out: list[Raw] = []
    for c in calls:
        uid = c.unique_id
        out.append((c.t_start, 1, "pbx.call.start", {
            "unique_id": uid, "caller": c.caller, "called": c.called,
            "direction": DIRECTION.get(c.direction, c.direction)}))
        for i, leg in enumerate(c.legs):
            if leg.dtype == "queue":
                out += _visit(c, leg, c.legs[i + 1:], primary)
        out.append((c.t_end, 9, "pbx.call.end", {"unique_id": uid}))
    return out


def _visit(c: Call, q: Leg, after: list[Leg], primary: dict[str, str]) -> list[Raw]:
    base = {"unique_id": c.unique_id, "queue": q.did, "queue_name": q.dname, "caller": c.caller}
    out: list[Raw] = [(q.t_enter, 2, "pbx.queue.enter", dict(base))]
    if q.welcome_end is not None and q.welcome_end < q.t_exit:
        out.append((q.welcome_end, 2, "pbx.queue.enqueue", dict(base)))
    for lg in after:
        if lg.visit is not q:
            continue
        who = {"member_exten": lg.op, "member_account": lg.account or primary.get(lg.op, lg.op)}
        out.append((lg.t_enter, 3, "pbx.queue.ringmember", {**base, **who}))
        if lg.t_answer is not None:
            out.append((lg.t_answer, 4, "pbx.queue.servedcall", {
                **base, **who, "wait": (lg.t_answer - q.t_enter) // 1000}))
            out += _transfer(c, lg, after)
        else:
            out.append((lg.t_exit, 5, "pbx.queue.ringnoanswer", {
                **base, **who, "reason": lg.cc_outcome or lg.cause}))
    if q.t_answer is None:
        out.append((q.t_exit, 6, "pbx.queue.unservedcall", {
            **base, "reason": UNSERVED_REASON.get(q.cause, q.cause),
            "wait": (q.t_exit - q.t_enter) // 1000}))
    return out


def _transfer(c: Call, lg: Leg, after: list[Leg]) -> list[Raw]:
    if lg.cause not in ("BLINDXFER", "ATXFER"):
        return []
    to = next((t for t in after if t.dtype == "local_exten" and t.visit is None
               and t.src == lg.op and t.t_enter >= lg.t_enter), None)
    out: list[Raw] = []
    prm = {"unique_id": c.unique_id, "member_exten": lg.op}
    if to is not None and to.t_answer is not None:
        out.append((to.t_answer, 4, "pbx.extension.answercall",
                    {"unique_id": c.unique_id, "extension": to.op}))
        prm["transfer_recipient"] = to.op
    out.append((lg.t_exit, 7, "pbx.call.transfer-succeeded", prm))
    return out


def live_run(*, days: int = 1, calls_per_day: int = 2000, seed: int = 1, start: date,
             tz: str = "Europe/Rome", serial: str = "KP-SIM-0001", first_id: int = 1) -> LiveRun:
    """Simulate (the same run as `generate` with these arguments: same calls, same unique
    ids) and return its calls and every event, member and call ones, in time order."""
    d = build_directory(seed, max(1.0, calls_per_day / 2000.0))
    eng = Engine(d, seed=seed, start=start, days=days, calls_per_day=calls_per_day, tz=tz)
    calls: list[Call] = []
    busy = BusyLog()
    for batch in eng.run():
        calls.extend(batch)
        busy.add(batch)
    primary = {o.extension: o.accounts[0][0] for o in d.operators}
    raw = member_events(eng, busy, seed) + call_events(calls, primary)
    raw.sort(key=lambda x: (x[0], x[1]))
    return LiveRun(calls, [event_object(first_id + n, ms, name, prm, serial)
                           for n, (ms, _o, name, prm) in enumerate(raw)])
