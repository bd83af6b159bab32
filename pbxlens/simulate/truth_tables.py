"""Truth tables: what the simulator knows happened, written beside the exports as a second,
independent oracle for the reports (docs/simulator.md "Truth tables" gives the format).

- ``truth_queue_days.tsv``: per tenant, day basis, day, queue and direction: queue visits
  offered, answered, abandoned ... and talk seconds. Two day bases: `start` (the local day the
  call started: the CDR queue reports' placement) and `exit` (the local day the visit left the
  queue: the Call Center reports' placement, C22).
- ``truth_missed.tsv``: per callback request (a missed caller's episode, nexus_modules.md A.9):
  when the caller was missed, how often, and whether and when they were called back.
- ``truth_missed_calls.tsv``: each missed call and its request.
- ``truth_callbacks.tsv``: each callback the operators made (the team's ground truth: whether
  the customer answered), beside whether the A.9 rule counts it a success.

Tab-separated, one header row, UTF-8. Instants are written as the exports write them (PBX
local time, truncated to the second) and durations are differences of those truncated
instants, as a reader of the exports computes them.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .callbacks import SUCCESS_MS, MissedLedger
from .truth import Call, Leg
from .writers.common import TimeFormatter

# tab-separated (.tsv): `pbxlens ingest FOLDER` reads .csv files, and these are not PBX exports
QUEUE_DAYS_FILE = "truth_queue_days.tsv"
MISSED_FILE = "truth_missed.tsv"
MISSED_CALLS_FILE = "truth_missed_calls.tsv"
CALLBACKS_FILE = "truth_callbacks.tsv"
TRUTH_FILES = (QUEUE_DAYS_FILE, MISSED_FILE, MISSED_CALLS_FILE, CALLBACKS_FILE)

QUEUE_DAY_FIELDS = (
    "tenant", "basis", "day", "queue_id", "queue_name", "direction", "offered", "answered",
    "transferred", "abandoned", "abandoned_welcome", "timeout", "joinempty", "leaveempty",
    "full", "closed", "callback_requested", "other_unanswered", "overflowed", "talk_s",
    "wait_s")
_COUNTS = QUEUE_DAY_FIELDS[6:]
# Call Center exit cause -> the counter it feeds (answered visits: `answered`)
_CAUSE_COL = {"CANCELED": "abandoned", "CANCELED_NOWAIT": "abandoned", "TIMEOUT": "timeout",
              "QUEUE_JOINEMPTY": "joinempty", "LEAVEEMPTY": "leaveempty", "FULL": "full",
              "CLOSED": "closed", "QUEUE_CALLBACK": "callback_requested",
              "CCBS": "callback_requested"}
MISSED_FIELDS = (
    "tenant", "call_num", "request_key", "first_call", "last_call", "num_calls", "queue",
    "closure", "closed_at", "closed_by", "attempts", "num_recalled", "first_recalled",
    "last_recalled", "first_success", "recall_s", "team_callbacks", "team_reached",
    "first_team_callback")
MISSED_CALL_FIELDS = ("tenant", "unique_id", "call_num", "start", "queue", "request_key")
CALLBACK_FIELDS = ("tenant", "request_key", "unique_id", "start", "operator",
                   "customer_answered", "success")


def _later_visit(legs: list[Leg], q: Leg) -> bool:
    """A queue line after q in the call's path (an overflow or a transfer to a queue)."""
    return any(x.dtype == "queue" for x in legs[legs.index(q) + 1:])


class QueueDays:
    """Per (tenant, basis, day, queue, direction) counters, fed call by call."""

    def __init__(self, tz: str) -> None:
        self.fmt = TimeFormatter(tz)
        self.rows: dict[tuple, dict[str, int]] = {}
        self.names: dict[tuple[str, str], str] = {}
        self._days: dict[int, str] = {}  # quarter hour -> local day (zones change on them)

    def _day(self, ms: int) -> str:
        q = ms // 900_000
        d = self._days.get(q)
        if d is None:
            d = self._days[q] = self.fmt(q * 900_000)[:10]
        return d

    def add(self, visits: list[tuple[Call, Leg]]) -> None:
        """Queue lines and their calls (`Engine.visits`: in path order within a call)."""
        rows = self.rows
        day = self._day
        for c, q in visits:
            direction = "incoming" if c.src_type == "ibl" else "local"
            self.names[(c.tenant, q.did)] = q.dname
            cnt = {"offered": 1}
            if q.t_answer is not None:
                cnt["answered"] = 1
                cnt["talk_s"] = q.t_exit // 1000 - q.t_answer // 1000
                if q.cc_cause == "TRANSFER":
                    cnt["transferred"] = 1
            else:
                cnt["wait_s"] = q.t_exit // 1000 - q.t_enter // 1000
                cnt[_CAUSE_COL.get(q.cc_cause, "other_unanswered")] = 1
                if q.cc_cause == "CANCELED_NOWAIT":
                    cnt["abandoned_welcome"] = 1
                if q is not c.legs[-1] and _later_visit(c.legs, q):
                    cnt["overflowed"] = 1
            for basis, d in (("start", day(c.t_start)), ("exit", day(q.t_exit))):
                acc = rows.setdefault((c.tenant, basis, d, q.did, direction), {})
                for f, v in cnt.items():
                    acc[f] = acc.get(f, 0) + v

    def write(self, out_dir: Path) -> Path:
        path = Path(out_dir) / QUEUE_DAYS_FILE
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n")
            w.writerow(QUEUE_DAY_FIELDS)
            for key in sorted(self.rows):
                tenant, basis, day, qid, direction = key
                acc = self.rows[key]
                w.writerow([tenant, basis, day, qid, self.names[(tenant, qid)], direction,
                            *(acc.get(f, 0) for f in _COUNTS)])
        return path


def write_missed(out_dir: Path, ledgers: list[MissedLedger], tz: str) -> list[Path]:
    fmt = TimeFormatter(tz)

    def at(s: int | None) -> str:
        return "" if s is None else fmt(s * 1000)

    paths = [Path(out_dir) / n for n in (MISSED_FILE, MISSED_CALLS_FILE, CALLBACKS_FILE)]
    with paths[0].open("w", encoding="utf-8", newline="") as f0, \
            paths[1].open("w", encoding="utf-8", newline="") as f1, \
            paths[2].open("w", encoding="utf-8", newline="") as f2:
        w0, w1, w2 = (csv.writer(f, delimiter="\t", lineterminator="\n") for f in (f0, f1, f2))
        w0.writerow(MISSED_FIELDS)
        w1.writerow(MISSED_CALL_FIELDS)
        w2.writerow(CALLBACK_FIELDS)
        reqs = [x for led in ledgers for x in led.requests()]
        reqs.sort(key=lambda x: (x[0].tenant, x[0].number, x[0].first_s))
        for r, attempts in reqs:
            key = r.key
            failed = [a for a in attempts if not a.success]
            ok = [a for a in attempts if a.success]
            first_ok = min((a.start_s for a in ok), default=None)
            w0.writerow([r.tenant, r.number, key, at(r.first_s), at(r.last_s), r.num_calls,
                         r.queue, r.closure or "", at(r.closed_s), r.closed_by, len(attempts),
                         len(failed), at(min((a.start_s for a in failed), default=None)),
                         at(max((a.start_s for a in failed), default=None)),
                         at(first_ok), "" if first_ok is None else first_ok - r.first_s,
                         len(r.team), sum(1 for x in r.team if x[3]),
                         fmt(r.team[0][1]) if r.team else ""])
            for uid, start_s, queue in r.calls:
                w1.writerow([r.tenant, uid, r.number, at(start_s), queue, key])
            by_uid = {a.uid: a for a in attempts}
            for uid, start_ms, ext, reached in r.team:
                a = by_uid.get(uid)
                w2.writerow([r.tenant, key, uid, fmt(start_ms), ext, int(reached),
                             "" if a is None else int(a.success)])
    return paths


__all__ = ["SUCCESS_MS", "TRUTH_FILES", "QueueDays", "write_missed"]
