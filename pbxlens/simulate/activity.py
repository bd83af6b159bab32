"""Queue-member events and feedback requests derived from the simulated truth.

- ``events.jsonl``: the PBX event log of `pbx.queuemember.added/removed/pause/unpause`
  (formats.md §2, one JSON object per line). Each shift of an operator who is a queue member
  is a login to each of its queues (`added` at the shift start, `removed` at its end); pauses
  (with a reason, or none) are placed in the operator's idle gaps (no ring, no talk inside a
  pause), per queue or, one time in four, queue-less (= every queue). Night shifts often
  pause across midnight.
- ``feedback_requests.ndjson``: the dynamic-routing feedback requests the PBX would POST
  after answered queue calls (nexus_modules.md D.1): one JSON object per line,
  ``{"unique_id", "body"}`` with the XML body; ratings 1-6, a few out of range (FB-2).

Both use their own random generators seeded from the seed: the CDR of a seed is unchanged.
"""

from __future__ import annotations

import bisect
import json
import random
from datetime import timedelta
from pathlib import Path

from .engine import Engine
from .truth import Call

EVENTS_FILE = "events.jsonl"
FEEDBACK_FILE = "feedback_requests.ndjson"
PBX_SERIAL = "KP-SIM-0001"
REASONS = ("break", "lunch", "training", "backoffice", None)
RATING_WEIGHTS = (1, 1, 2, 5, 7, 4)  # ratings 1..6


class BusyLog:
    """Per operator extension, the [enter, exit] of every leg it rang or talked on."""

    def __init__(self) -> None:
        self.by_op: dict[str, list[tuple[int, int]]] = {}
        self.answered_queue_calls: list[tuple[str, str, str]] = []  # (unique_id, caller, did)

    def add(self, calls: list[Call]) -> None:
        for c in calls:
            for lg in c.legs:
                if lg.op is not None:
                    self.by_op.setdefault(lg.op, []).append((lg.t_enter, lg.t_exit))
            if c.direction == "in" and c.status == "OK" and any(
                    lg.dtype == "queue" and lg.t_answer is not None for lg in c.legs):
                self.answered_queue_calls.append((c.unique_id, c.caller, c.called))


def _merged(iv: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    iv = sorted(iv)
    st: list[int] = []
    en: list[int] = []
    for a, b in iv:
        if st and a <= en[-1]:
            en[-1] = max(en[-1], b)
        else:
            st.append(a)
            en.append(b)
    return st, en


def _free(st: list[int], en: list[int], a: int, b: int) -> bool:
    """No busy interval overlaps [a, b]."""
    k = bisect.bisect_right(st, b) - 1
    return k < 0 or en[k] < a


def write_events(out_dir: Path, eng: Engine, busy: BusyLog, seed: int) -> Path:
    path = Path(out_dir) / EVENTS_FILE
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for n, (ms, _o, name, prm) in enumerate(member_events(eng, busy, seed), start=1):
            fh.write(json.dumps(event_object(n, ms, name, prm), ensure_ascii=False) + "\n")
    return path


def event_object(event_id: int, ms: int, name: str, params: dict,
                 serial: str = PBX_SERIAL) -> dict:
    """One event as the PBX posts it (formats.md §2); the instant in epoch seconds with
    milliseconds."""
    return {"event_id": event_id, "event_name": name, "event_severity": 3,
            "event_timestamp": f"{ms // 1000}.{ms % 1000:03d}000",
            "event_pbx_serial": serial, "params": params}


def member_events(eng: Engine, busy: BusyLog, seed: int) -> list[tuple[int, int, str, dict]]:
    """The queue-member events of the run, in time order: (epoch ms, order within the
    instant, event name, params)."""
    rng = random.Random(f"pbxlens-activity-{seed}")
    d = eng.d
    span_lo = eng.local_ms(eng.start, 0)
    span_hi = eng.local_ms(eng.start + timedelta(days=eng.days), 0)
    queues_of: dict[int, list] = {}
    for q in sorted(d.queues.values(), key=lambda q: q.id):
        for i, _p in q.members:
            if q not in queues_of.setdefault(i, []):
                queues_of[i].append(q)
    evs: list[tuple[int, int, str, dict]] = []  # (ms, order, name, params)
    for o in d.operators:
        qs = queues_of.get(o.idx)
        if not qs:
            continue
        acc = o.accounts[0][0]
        base = {"member_account": acc, "member_exten": o.extension}
        st, en = _merged(busy.by_op.get(o.extension, []))
        for a, b in zip(eng.shift_starts[o.idx], eng.shift_ends[o.idx], strict=True):
            if b <= span_lo or a >= span_hi:
                continue
            for q in qs:
                prm = {**base, "queue": q.id, "queue_name": q.name}
                evs.append((a, 0, "pbx.queuemember.added", prm))
                evs.append((b, 3, "pbx.queuemember.removed", prm))
            pauses: list[tuple[int, int]] = []
            wanted = rng.choice((0, 1, 1, 2, 3))
            if o.shift == "night" and rng.random() < 0.6:
                wanted += 1  # try one around midnight
            for k in range(wanted):
                dur = rng.randint(180, 1500) * 1000 + rng.randint(0, 999)
                for _try in range(12):
                    if k == 0 and o.shift == "night":
                        day = eng.start + timedelta(days=(a - span_lo) // 86_400_000)
                        s = eng.local_ms(day, 23, 40) + rng.randint(0, 25 * 60_000)
                    else:
                        lo, hi = a + 60_000, b - dur - 60_000
                        if hi <= lo:
                            break
                        s = rng.randint(lo, hi)
                    e = s + dur
                    if a < s and e < b and _free(st, en, s, e) and all(
                            e < x or s > y for x, y in pauses):
                        pauses.append((s, e))
                        break
            for s, e in pauses:
                reason = rng.choice(REASONS)
                extra = {"reason": reason} if reason else {}
                if rng.random() < 0.25:  # queue-less: the member pauses in every queue
                    evs.append((s, 1, "pbx.queuemember.pause", {**base, **extra}))
                    evs.append((e, 2, "pbx.queuemember.unpause", dict(base)))
                else:
                    for q in qs:
                        prm = {**base, "queue": q.id, "queue_name": q.name}
                        evs.append((s, 1, "pbx.queuemember.pause", {**prm, **extra}))
                        evs.append((e, 2, "pbx.queuemember.unpause", prm))
    evs.sort(key=lambda x: (x[0], x[1], x[3].get("member_account", ""), x[3].get("queue", "")))
    return evs


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


def write_feedback(out_dir: Path, busy: BusyLog, seed: int) -> Path:
    rng = random.Random(f"pbxlens-feedback-{seed}")
    path = Path(out_dir) / FEEDBACK_FILE
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for uid, caller, called in busy.answered_queue_calls:
            if rng.random() >= 0.3:
                continue
            r = rng.random()
            rating = ("9" if r < 0.02 else "" if r < 0.03 else
                      str(rng.choices(range(1, 7), weights=RATING_WEIGHTS)[0]))
            body = FEEDBACK_BODY.format(uid=uid, caller=caller or "anonymous",
                                        called=called or "", rating=rating)
            fh.write(json.dumps({"unique_id": uid, "body": body}) + "\n")
    return path
