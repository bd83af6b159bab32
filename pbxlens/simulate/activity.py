"""The PBX event log and the feedback requests, from the simulated truth.

- ``events.jsonl``: the PBX event log (formats.md §2, one JSON object per line, event ids
  increasing with time):
  - agents: `cti.client.login` / `logoff` and `pbx.queuemember.added` / `removed` at each
    shift of a queue member (one `added`/`removed` per queue it serves); `pbx.queuemember.pause`
    / `unpause` for every pause the engine took into account (planned pauses with a reason or
    none, on the member's queues or queue-less; `wrap-up` pauses after a queue call; automatic
    pauses on the queue of a refused or unanswered presentation, without a reason);
  - calls (scenario `call_events`): `pbx.call.start` / `end`; per queue visit
    `pbx.queue.enter`, `enqueue`, `ringmember` / `ringnoanswer` per presentation, and
    `servedcall` or `unservedcall`; `pbx.dynamic-routing.enter` per dynamic-routing step
    (L13435-13456).
- ``feedback_requests.ndjson``: the dynamic-routing feedback requests the PBX would POST after
  answered queue calls (nexus_modules.md D.1): one JSON object per line,
  ``{"unique_id", "body"}`` with the XML body; ratings 1-6, a few out of range (FB-2).

Both use their own random generators seeded from the seed: the CDR of a seed is unchanged.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from .truth import Call

EVENTS_FILE = "events.jsonl"
FEEDBACK_FILE = "feedback_requests.ndjson"
PBX_SERIAL = "KP-SIM-0001"
RATING_WEIGHTS = (1, 1, 2, 5, 7, 4)  # ratings 1..6
# order of simultaneous events: log in, join, pause, ..., unpause, leave, log out
_LOGIN, _ADDED, _PAUSE, _CALL, _UNPAUSE, _REMOVED, _LOGOFF = range(7)


class ActivityLog:
    """What the event log and the feedback requests need from the calls, kept while the
    calls stream through `generate` (compact tuples, not the calls)."""

    def __init__(self, call_events: bool = True) -> None:
        self.call_events = call_events
        self.events: list[tuple] = []  # (ms, order, sub-order, name, params)
        self.answered_queue_calls: list[tuple[str, str, str, str]] = []  # (uid, caller, did, tenant)

    def add(self, calls: list[Call]) -> None:
        ev = self.events.append
        for c in calls:
            queued = False
            for lg in c.legs:
                if lg.dtype == "queue":
                    queued = True
                    if self.call_events:
                        self._visit(c, lg)
                elif lg.dtype == "dre" and self.call_events:
                    prm = {"unique_id": c.unique_id, "caller": c.caller, "called": c.called,
                           "dynamic_routing": lg.did}
                    if c.tenant != "default":
                        prm["tenant"] = c.tenant
                    ev((lg.t_enter, _CALL, 6, "pbx.dynamic-routing.enter", prm))
            if self.call_events:
                base = {"unique_id": c.unique_id, "caller": c.caller, "called": c.called,
                        "source_type": c.src_type, "destination_type": c.dst_type}
                if c.tenant != "default":
                    base["tenant"] = c.tenant
                ev((c.t_start, _CALL, 0, "pbx.call.start", base))
                ev((c.t_end, _CALL, 9, "pbx.call.end",
                    {**base, "status": c.status, "duration": (c.t_end - c.t_start) // 1000}))
            if queued and c.direction == "in" and c.status == "OK" and any(
                    lg.dtype == "queue" and lg.t_answer is not None for lg in c.legs):
                self.answered_queue_calls.append((c.unique_id, c.caller, c.called, c.tenant))

    def _visit(self, c: Call, q) -> None:
        ev = self.events.append
        base = {"unique_id": c.unique_id, "queue": q.did, "queue_name": q.dname,
                "caller": c.caller}
        if c.tenant != "default":
            base["tenant"] = c.tenant
        ev((q.t_enter, _CALL, 1, "pbx.queue.enter", base))
        if q.t_enqueue is not None:
            ev((q.t_enqueue, _CALL, 2, "pbx.queue.enqueue", base))
        pres = [lg for lg in c.legs if lg.visit is q]
        if c.cc_legs:
            pres += [lg for lg in c.cc_legs if lg.visit is q]
        for lg in pres:
            m = {**base, "member_exten": lg.op, "member_account": lg.account or lg.op}
            ev((lg.t_enter, _CALL, 3, "pbx.queue.ringmember", m))
            if lg.t_answer is None:
                ev((lg.t_exit, _CALL, 4, "pbx.queue.ringnoanswer",
                    {**m, "cause": lg.cc_outcome or lg.cause}))
        wait = ((q.t_answer if q.t_answer is not None else q.t_exit) - q.t_enter) // 1000
        if q.t_answer is not None:
            served = next((lg for lg in pres if lg.t_answer is not None), None)
            who = {"member_account": q.answered_by}
            if served is not None:  # the live state follows the member by its extension
                who = {"member_exten": served.op, "member_account": served.account or served.op}
            ev((q.t_answer, _CALL, 5, "pbx.queue.servedcall", {**base, **who, "wait": wait}))
            if served is not None:
                self._transfer(c, served, base)
        else:
            ev((q.t_exit, _CALL, 5, "pbx.queue.unservedcall",
                {**base, "wait": wait, "reason": q.cc_cause or q.cause}))


    def _transfer(self, c: Call, lg, base: dict) -> None:
        """A queue operator's transfer: `pbx.extension.answercall` when the colleague answers,
        `pbx.call.transfer-succeeded` (`member_exten` -> `transfer_recipient`) when the
        operator leaves the call."""
        if lg.cause not in ("BLINDXFER", "ATXFER"):
            return
        to = next((t for t in c.legs if t.dtype == "local_exten" and t.visit is None
                   and t.src == lg.op and t.t_enter >= lg.t_enter), None)
        tenant = {"tenant": base["tenant"]} if "tenant" in base else {}
        prm = {"unique_id": c.unique_id, "member_exten": lg.op, **tenant}
        if to is not None and to.t_answer is not None:
            self.events.append((to.t_answer, _CALL, 6, "pbx.extension.answercall",
                                {"unique_id": c.unique_id, "extension": to.op, **tenant}))
            prm["transfer_recipient"] = to.op
        self.events.append((lg.t_exit, _CALL, 7, "pbx.call.transfer-succeeded", prm))


def _agent_events(eng, span_lo: int, span_hi: int) -> list[tuple]:
    """Logins, queue memberships and pauses of one engine's queue members."""
    d = eng.d
    tenant = d.tenant
    queues_of = eng.queues_of()
    evs: list[tuple] = []
    for o in d.operators:
        qs = queues_of.get(o.idx)
        if not qs:
            continue
        acc = o.accounts[0][0]
        base = {"member_account": acc, "member_exten": o.extension}
        cti = {"username": o.extension, "account": acc, "client": "KCTI"}
        if tenant != "default":
            base["tenant"] = cti["tenant"] = tenant
        for a, b in zip(eng.shift_starts[o.idx], eng.shift_ends[o.idx], strict=True):
            if b <= span_lo or a >= span_hi:
                continue
            evs.append((a, _LOGIN, "", "cti.client.login", cti))
            evs.append((b, _LOGOFF, "", "cti.client.logoff", cti))
            for qid in qs:
                prm = {**base, "queue": qid, "queue_name": d.queues[qid].name}
                evs.append((a, _ADDED, qid, "pbx.queuemember.added", prm))
                evs.append((b, _REMOVED, qid, "pbx.queuemember.removed", prm))
    shifts = {(o.idx): list(zip(eng.shift_starts[o.idx], eng.shift_ends[o.idx], strict=True))
              for o in d.operators}
    for p in eng.pauses:
        if not any(a < p.start and p.end < b and b > span_lo and a < span_hi
                   for a, b in shifts[p.op]):
            continue
        o = d.operators[p.op]
        base = {"member_account": o.accounts[0][0], "member_exten": o.extension}
        if tenant != "default":
            base["tenant"] = tenant
        extra = {"reason": p.reason} if p.reason else {}
        if p.queue is None:  # queue-less: the member pauses in every queue
            evs.append((p.start, _PAUSE, "", "pbx.queuemember.pause", {**base, **extra}))
            evs.append((p.end, _UNPAUSE, "", "pbx.queuemember.unpause", dict(base)))
            continue
        for qid in (queues_of[p.op] if p.queue == "*" else [p.queue]):
            prm = {**base, "queue": qid, "queue_name": d.queues[qid].name}
            evs.append((p.start, _PAUSE, qid, "pbx.queuemember.pause", {**prm, **extra}))
            evs.append((p.end, _UNPAUSE, qid, "pbx.queuemember.unpause", prm))
    return evs


def write_events(out_dir: Path, engines, log: ActivityLog) -> Path:
    evs: list[tuple] = []
    first = None  # the run's first local midnight, epoch ms
    for eng in engines:
        span_lo = eng.local_ms(eng.start, 0)
        span_hi = eng.local_ms(eng.start + timedelta(days=eng.days), 0)
        first = span_lo if first is None else min(first, span_lo)
        for ms, order, sub, name, prm in _agent_events(eng, span_lo, span_hi):
            evs.append((ms, order, prm.get("tenant", ""), prm["member_account"]
                        if "member_account" in prm else prm.get("account", ""), str(sub), name,
                        prm))
    for ms, order, sub, name, prm in log.events:
        evs.append((ms, order, prm.get("tenant", ""), prm["unique_id"], f"{sub}", name, prm))
    evs.sort(key=lambda x: x[:5])
    path = Path(out_dir) / EVENTS_FILE
    # The PBX numbers its events with one counter. Ids 1, 2, ... in every run made two runs
    # (a month, then today's live feed; or the live feeds of two days) share (serial, id)
    # keys, so a store holding one run dropped the other's events as resends. The counter
    # starts at the run's first midnight in ms x 1000: runs that start on different days never
    # meet (a run would need 86 billion events to reach the next day's start), and the ids
    # stay exact as JSON numbers (< 2^53) until the year 2255.
    base = (first or 0) * 1000
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for n, (ms, _o, _t, _k, _s, name, prm) in enumerate(evs, start=1):
            eid = base + n
            fh.write(json.dumps({
                "event_id": eid, "event_name": name, "event_severity": 3,
                "event_timestamp": f"{ms // 1000}.{ms % 1000:03d}000",
                "event_pbx_serial": PBX_SERIAL, "params": prm}, ensure_ascii=False) + "\n")
    return path


FEEDBACK_BODY = """<?xml version="1.0"?>
<parameters>
<unique_id>{uid}</unique_id>
<caller>{caller}</caller>
<called>{called}</called>
<param1>{rating}</param1>
<param2>%PARAM2%</param2>
<param3>%PARAM3%</param3>
<param4>%PARAM4%</param4>
<param5>%PARAM5%</param5>
<group>CS</group>
</parameters>"""


def write_feedback(out_dir: Path, log: ActivityLog, seed) -> Path:
    rng = random.Random(f"pbxlens-feedback-{seed}")
    path = Path(out_dir) / FEEDBACK_FILE
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for uid, caller, called, tenant in log.answered_queue_calls:
            if rng.random() >= 0.3:
                continue
            r = rng.random()
            rating = ("9" if r < 0.02 else "" if r < 0.03 else
                      str(rng.choices(range(1, 7), weights=RATING_WEIGHTS)[0]))
            body = FEEDBACK_BODY.format(uid=uid, caller=caller or "anonymous",
                                        called=called or "", rating=rating)
            row = {"unique_id": uid, "body": body}
            if tenant != "default":
                row["tenant"] = tenant
            fh.write(json.dumps(row) + "\n")
    return path
