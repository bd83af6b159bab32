"""The live state of queues and agents, kept by the event intake in the operations store, in
the same transaction that commits the events to the inbox (`pbxlens.ingest.inbox`): no DuckDB
and no process memory on the way, so every intake process keeps the same state.

Tables (`pbxlens.store.schema`): `live_visits` (one row per queue visit of a call),
`live_counters` (today's numbers per queue), `live_agents` (each agent's call register and
calls today), `live_members` (login and pause per agent and queue).

The events (pbx_data.md §3.2; parameter names in docs/live.md "Live events"):
- queue: `pbx.queue.enter` (offered), `ringmember`, `ringnoanswer`, `servedcall` (answered by
  `member_exten`), `unservedcall` (`reason` CANCELLED / TIMEOUT / JOINEMPTY / FULL / CLOSED ...);
- members: `pbx.queuemember.added|removed|pause|unpause` (a pause without a queue: every queue);
- calls: `pbx.call.end` (talk over, ringing agents released), `pbx.call.transfer-succeeded`
  (`member_exten` hands the call to `transfer_recipient`), `pbx.extension.answercall`.

Events come late, twice and out of order; the state is a merge of facts rather than a replay:
- a visit keeps the earliest entry, the answer and the exit it was told; its outcome comes
  from served/unserved; a call that ends while still in the queue is assumed abandoned, which
  a later served/unserved corrects. Counters move by each visit's change (its old contribution
  out, the new one in), so a duplicate moves nothing and a correction moves them back;
- logins and pauses are last-writer-wins registers by event instant: an older event never
  overrides a newer one;
- an agent's call register ignores rings and answers of calls whose end is already known;
- activity without a login (a ring, a pause, an answer) means logged in; a call with no end
  after `live_call_max_hours` is assumed over (`expire`).
What was assumed is kept in the rows' `assumed` code (no_enter, no_exit, no_login, expired)
and shown on the wallboard.

Waits are whole seconds between the instants truncated to the second, as the CDR records them;
a visit's day is the PBX-local day of its call's start (the epoch in the unique id), as the
reports place calls: so a day's counters equal the CDR report of that day.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from pbxlens.ingest import events as ev_mod
from pbxlens.live import definitions as defs
from pbxlens.store import direct, ops, schema

ENTER, ENQUEUE = "pbx.queue.enter", "pbx.queue.enqueue"
RING, NOANSWER = "pbx.queue.ringmember", "pbx.queue.ringnoanswer"
SERVED, UNSERVED = "pbx.queue.servedcall", "pbx.queue.unservedcall"
ADDED, REMOVED = "pbx.queuemember.added", "pbx.queuemember.removed"
PAUSE, UNPAUSE = "pbx.queuemember.pause", "pbx.queuemember.unpause"
CALL_END, TRANSFER = "pbx.call.end", "pbx.call.transfer-succeeded"
EXT_ANSWER = "pbx.extension.answercall"
EXPIRE = "expire"  # not a PBX event: `expire()` ends what never ended
# Within one instant: logins before pauses before calls; ends last.
ORDER = {ADDED: 0, ENTER: 1, ENQUEUE: 2, PAUSE: 3, UNPAUSE: 3, RING: 4, SERVED: 5,
         EXT_ANSWER: 5, NOANSWER: 6, UNSERVED: 7, TRANSFER: 8, REMOVED: 9, CALL_END: 10,
         EXPIRE: 11}
TRACKED = frozenset(ORDER) - {EXPIRE}
CALL_EVENTS = frozenset({CALL_END, TRANSFER, EXT_ANSWER, EXPIRE})
UNSERVED_OUTCOMES = {"CANCELLED": "abandoned", "CANCELED": "abandoned", "ABANDON": "abandoned",
                     "CANCELED_NOWAIT": "abandoned", "CANCELLED_NOWAIT": "abandoned",
                     "TIMEOUT": "timeout", "NOANSWER": "timeout", "JOINEMPTY": "joinempty",
                     "QUEUE_JOINEMPTY": "joinempty", "FULL": "full", "CLOSED": "closed"}
NEVER_QUEUED = frozenset({"joinempty", "full", "closed"})
COUNTERS = ("offered", "answered", "sl_hit", "abandoned", "short_abandoned", "never_queued",
            "unanswered", "asa_sum_s")
FROM_KEYS = ("member_exten", "transferer", "extension", "member_account")
TO_KEYS = ("transfer_recipient", "recipient", "transfer_to", "target")
CALLER_KEYS = ("caller", "caller_num", "callerid")
WAIT_KEYS = ("wait", "wait_s", "holdtime")
CHUNK = 1000
_UID_EPOCH = re.compile(r"^(\d{9,11})\.\d+$")
_PLACEHOLDER = re.compile(r"^%[A-Za-z0-9_\[\]]+%$")
_V, _C = schema.live_visits, schema.live_counters
_A, _M = schema.live_agents, schema.live_members

Key = tuple[str, ...]


@dataclass(slots=True)
class Ev:
    """One tracked event, its parameters read once."""

    name: str
    ts: datetime
    eid: int
    tenant: str
    uid: str | None
    queue: str
    qname: str | None
    agent: str | None
    account: str | None
    reason: str | None
    caller: str | None
    recipient: str | None
    wait: int | None = None  # served/unserved: seconds from the visit's entry


def _first(params: dict, keys: Iterable[str]) -> str | None:
    for k in keys:
        v = params.get(k)
        if v is not None:
            s = str(v).strip()
            if s and not _PLACEHOLDER.match(s):
                return s
    return None


def normalize(row: dict, now: datetime) -> Ev | None:
    """A parsed `pbx_events` row -> an `Ev`, or None when it is not tracked."""
    name = row["event_name"]
    if name not in TRACKED:
        return None
    p = row["params"]
    p = json.loads(p) if isinstance(p, str) else (p or {})
    ts = row.get("event_ts") or now
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    account = _first(p, ev_mod.ACCOUNT_KEYS)
    agent = (_first(p, FROM_KEYS) if name == TRANSFER
             else _first(p, ev_mod.EXTEN_KEYS) or account)
    queue = _first(p, ev_mod.QUEUE_KEYS) or _first(p, ev_mod.QUEUE_NAME_KEYS) or ""
    wait = _first(p, WAIT_KEYS) if name in (SERVED, UNSERVED) else None
    return Ev(name, ts, int(row.get("event_id") or 0), row.get("tenant") or "default",
              row.get("unique_id"), queue, _first(p, ev_mod.QUEUE_NAME_KEYS), agent, account,
              _first(p, ev_mod.REASON_KEYS), _first(p, CALLER_KEYS), _first(p, TO_KEYS),
              int(wait) if wait and wait.isdigit() else None)


def day_of(uid: str | None, ts: datetime) -> date:
    """The PBX-local day of a call's start: the epoch second that opens an Asterisk unique id,
    else the event's instant."""
    m = _UID_EPOCH.match(uid or "")
    when = datetime.fromtimestamp(int(m.group(1)), UTC) if m else ts
    return when.astimezone(defs.zone()).date()


def secs(a: datetime, b: datetime) -> int:
    """Whole seconds from `a` to `b`, both truncated to the second first (as the CDR)."""
    return max(0, math.floor(b.timestamp()) - math.floor(a.timestamp()))


# ------------------------------------------------------------------------- visit rules

def classify(v: dict, d: defs.Definitions | defs.Lazy) -> None:
    """Set a visit's wait and counter class from its facts and its queue's definition `d`
    (`kpi` stays once an answer is classified, so a threshold changed later does not move past
    counters)."""
    out = v["outcome"]
    if out is None:
        v["wait_s"], v["kpi"] = None, None
        return
    if out == "answered":
        wait = secs(v["entered_at"], v["answered_at"])
        if v["kpi"] not in ("sl", "late") or wait != v["wait_s"]:
            v["kpi"] = "sl" if wait <= d.of(v["tenant"], v["queue"]).threshold_s else "late"
        v["wait_s"] = wait
        return
    v["wait_s"] = wait = secs(v["entered_at"], v["exited_at"] or v["entered_at"])
    if out == "abandoned":
        short = d.of(v["tenant"], v["queue"]).short_abandon_s
        v["kpi"] = "abandoned" if wait >= short else "short"
    else:
        v["kpi"] = "never" if out in NEVER_QUEUED else "other"


def contribution(v: dict | None) -> dict[str, int]:
    """What one visit adds to its queue's counters of its day."""
    if v is None:
        return {}
    k, w = v["kpi"], v["wait_s"] or 0
    c = {"offered": 1}
    if k in ("sl", "late"):
        c.update(answered=1, asa_sum_s=w, sl_hit=int(k == "sl"))
    elif k is not None:
        c["unanswered"] = 1
        c[{"abandoned": "abandoned", "short": "short_abandoned", "never": "never_queued"}.get(
            k, "unanswered")] = 1
    return c


# ------------------------------------------------------------------------- the batch

class Batch:
    """The rows one commit touches, loaded once, changed in memory event by event, written
    back in a few statements."""

    def __init__(self, conn: sa.Connection, evs: list[Ev], now: datetime) -> None:
        self.conn, self.now = conn, now
        self.defs = defs.Lazy(conn)
        uids = sorted({(e.tenant, e.uid) for e in evs if e.uid})
        self.visits: dict[Key, dict] = {}
        self.by_call: dict[Key, list[Key]] = {}
        for r in ops.select_pairs(conn, _V, (_V.c.tenant, _V.c.unique_id), uids):
            self._add_visit(r)
        self.orig_visits = {k: dict(v) for k, v in self.visits.items()}
        self.ended = {(r["tenant"], r["unique_id"]): r["ended_at"] for r in ops.select_pairs(
            conn, schema.live_call_ends, (schema.live_call_ends.c.tenant,
                                          schema.live_call_ends.c.unique_id), uids)}
        names = {(e.tenant, a) for e in evs for a in (e.agent, e.recipient) if a}
        self.agents: dict[Key, dict] = {}
        # The agents on these calls, for the events that free them (an unserved exit, the
        # call's end): the commonest commits (enters, rings) skip this read.
        if any(e.name in FREEING for e in evs):
            for r in ops.select_pairs(conn, _A, (_A.c.tenant, _A.c.call_uid), uids):
                self.agents[(r["tenant"], r["agent"])] = dict(r)
        for r in ops.select_pairs(conn, _A, (_A.c.tenant, _A.c.agent),
                            sorted(names - set(self.agents))):
            self.agents[(r["tenant"], r["agent"])] = dict(r)
        self.members: dict[Key, dict] = {}
        for r in ops.select_pairs(conn, _M, (_M.c.tenant, _M.c.agent), sorted(names)):
            self.members[(r["tenant"], r["agent"], r["queue"])] = dict(r)
        self.dirty_visits: set[Key] = set()
        self.dirty_agents: set[Key] = set()
        self.dirty_members: set[Key] = set()

    def _add_visit(self, r) -> None:
        k = (r["tenant"], r["unique_id"], r["queue"], r["n"])
        self.visits[k] = dict(r)
        self.by_call.setdefault(k[:2], []).append(k)

    # --------------------------------------------------------------- rows
    def visit(self, e: Ev) -> dict:
        """The visit of the call to the queue that `e` belongs to (`match_visit`), else a
        new one."""
        mine = [k for k in self.by_call.get((e.tenant, e.uid), ()) if k[2] == e.queue]
        v = match_visit(e, [self.visits[k] for k in mine])
        if v is None:
            k = (e.tenant, e.uid, e.queue, 1 + max((k[3] for k in mine), default=-1))
            v = {"tenant": e.tenant, "unique_id": e.uid, "queue": e.queue, "n": k[3],
                 "queue_name": e.qname, "day": day_of(e.uid, e.ts), "caller": e.caller,
                 "entered_at": e.ts, "entered_seen": e.name == ENTER, "entry_pinned": False,
                 "answered_at": None,
                 "agent": None, "exited_at": None, "outcome": None, "kpi": None,
                 "wait_s": None, "ended_at": None,
                 "assumed": None if e.name == ENTER else "no_enter", "updated_at": self.now}
            self.visits[k] = v
            self.by_call.setdefault(k[:2], []).append(k)
        k = (v["tenant"], v["unique_id"], v["queue"], v["n"])
        v["queue_name"] = v["queue_name"] or e.qname
        v["caller"] = v["caller"] or e.caller
        self.dirty_visits.add(k)
        return v

    def agent(self, tenant: str, name: str, account: str | None = None) -> dict:
        k = (tenant, name)
        a = self.agents.get(k)
        if a is None:
            a = self.agents[k] = {
                "tenant": tenant, "agent": name, "account": account, "call_uid": None,
                "call_state": None, "call_queue": None, "call_since": None, "call_ts": None,
                "last_call_end": None, "calls_day": None, "calls_today": 0, "assumed": None,
                "assumed_at": None, "updated_at": self.now}
        a["account"] = a["account"] or account
        self.dirty_agents.add(k)
        return a

    def member(self, tenant: str, agent: str, queue: str, ts: datetime,
               qname: str | None = None) -> dict:
        k = (tenant, agent, queue)
        m = self.members.get(k)
        if m is None:
            m = self.members[k] = {
                "tenant": tenant, "agent": agent, "queue": queue, "queue_name": qname,
                "logged_in": False, "login_ts": ts, "paused": False, "reason": None,
                "pause_ts": None, "assumed": None, "updated_at": self.now}
        m["queue_name"] = m["queue_name"] or qname
        self.dirty_members.add(k)
        return m

    def members_of(self, tenant: str, agent: str) -> list[dict]:
        return [m for (t, a, _q), m in self.members.items() if t == tenant and a == agent]


def _s(t: datetime) -> int:
    return math.floor(t.timestamp())


def _open(v: dict) -> bool:
    """No outcome heard yet (a provisional abandon at the call's end counts as none)."""
    return v["outcome"] is None or v["assumed"] == "no_exit"


def _known(v: dict) -> bool:
    return v["entered_seen"] or v["entry_pinned"]


def match_visit(e: Ev, vs: list[dict]) -> dict | None:
    """Which of the call's visits to `e.queue` the event `e` belongs to; None: a new visit.

    A call that leaves a queue and enters it again makes a second visit (the CDR writes a
    second queue line, and the report counts both). Events come in any order, so visits are
    told apart by time: an enter opens a visit unless it repeats a known entry or is the
    missing entry of a visit seen only by its later events; a served/unserved call belongs to
    the visit of its entry (the event's `wait` back from its instant) or to the latest visit
    still open by then; rings and other steps never open a visit of their own once the call
    has one (a ring heard after an answer elsewhere is not a new offer)."""
    if not vs:
        return None
    t = _s(e.ts)
    if e.name == ENTER:
        if same := [v for v in vs if v["entered_seen"] and _s(v["entered_at"]) == t]:
            return same[0]
        if same := [v for v in vs if not v["entered_seen"] and v["entry_pinned"]
                    and abs(_s(v["entered_at"]) - t) <= 1]:
            return same[0]
        known = [_s(v["entered_at"]) for v in vs if _known(v)]
        later = [v for v in vs if not _known(v) and _s(v["entered_at"]) >= t
                 and not any(t < s <= _s(v["entered_at"]) for s in known)]
        return min(later, key=lambda v: v["entered_at"]) if later else None
    if e.name in (SERVED, UNSERVED):
        if e.wait is not None:
            entry = t - e.wait
            if same := [v for v in vs if _known(v) and abs(_s(v["entered_at"]) - entry) <= 1]:
                return same[0]
            vs = [v for v in vs if not _known(v)]  # a known entry elsewhere: another visit
        if e.name == SERVED:
            dup = [v for v in vs if v["outcome"] == "answered" and v["answered_at"] is not None
                   and _s(v["answered_at"]) == t and v["agent"] == e.agent]
        else:
            dup = [v for v in vs if not _open(v) and v["outcome"] != "answered"
                   and v["exited_at"] is not None and _s(v["exited_at"]) == t]
        if dup:
            return dup[0]
        if before := [v for v in vs if _open(v) and _s(v["entered_at"]) <= t]:
            return max(before, key=lambda v: v["entered_at"])
        later = [v for v in vs if _open(v) and not v["entered_seen"]]
        return min(later, key=lambda v: v["entered_at"]) if later else None
    before = [v for v in vs if _s(v["entered_at"]) <= t]
    return (max(before, key=lambda v: v["entered_at"]) if before
            else min(vs, key=lambda v: v["entered_at"]))


# ------------------------------------------------------------------------- the rules

def _end_visit(b: Batch, v: dict, ts: datetime, assumed: str = "no_exit") -> None:
    """The call is over (its end, a transfer away, or expiry): a visit still in the queue is
    assumed abandoned at that instant until served/unserved says otherwise."""
    if v["outcome"] is None:
        v.update(outcome="abandoned", exited_at=ts, assumed=assumed)
    if v["ended_at"] is None or ts < v["ended_at"]:
        v["ended_at"] = ts
    classify(v, b.defs)


def on_queue(b: Batch, e: Ev) -> None:
    v = b.visit(e)
    if e.name == ENTER:
        if not v["entered_seen"] or e.ts < v["entered_at"]:
            v.update(entered_at=e.ts, entered_seen=True, entry_pinned=False)
            if v["assumed"] == "no_enter":
                v["assumed"] = None
    elif e.wait is not None and not _known(v):  # the wait places the entry
        v.update(entered_at=datetime.fromtimestamp(_s(e.ts) - e.wait, UTC), entry_pinned=True)
    elif not v["entered_seen"] and e.ts < v["entered_at"]:  # earlier than what we know
        v["entered_at"] = e.ts
    if e.name == SERVED and (v["outcome"] != "answered" or v["assumed"] == "no_exit"):
        v.update(outcome="answered", answered_at=e.ts, agent=e.agent, exited_at=None,
                 assumed=None if v["assumed"] == "no_exit" else v["assumed"])
    elif e.name == SERVED and e.ts < v["answered_at"]:
        v["answered_at"] = e.ts
    elif e.name == UNSERVED and (v["outcome"] is None or v["assumed"] == "no_exit"):
        v.update(outcome=UNSERVED_OUTCOMES.get((e.reason or "").upper(), "other"),
                 exited_at=e.ts, ended_at=e.ts,
                 assumed=None if v["assumed"] == "no_exit" else v["assumed"])
    if (ended := b.ended.get((e.tenant, e.uid))) is not None and v["ended_at"] is None:
        _end_visit(b, v, ended)
    classify(v, b.defs)
    if e.agent and e.name in (RING, SERVED, NOANSWER):
        on_agent_call(b, e)
    elif e.name == UNSERVED:  # the call left the queue: whoever it was ringing stops
        for a in [a for a in b.agents.values() if a["tenant"] == e.tenant
                  and a["call_uid"] == e.uid and a["call_state"] == "ringing"]:
            _release(b, a, e.ts, talked=False)


def on_agent_call(b: Batch, e: Ev) -> None:
    a = b.agent(e.tenant, e.agent, e.account)
    known_end = (e.tenant, e.uid) in b.ended
    if e.name == NOANSWER:
        if a["call_uid"] == e.uid and a["call_state"] == "ringing":
            a.update(call_uid=None, call_state=None, call_queue=None, call_since=None,
                     call_ts=e.ts)
        return
    if e.queue:
        _logged_by_activity(b, e)
    if known_end:  # the call is over: at most its answer tells when the agent's talk ended
        end = b.ended[(e.tenant, e.uid)]
        if e.name != RING and e.ts <= end:
            a["last_call_end"] = max(a["last_call_end"] or end, end)
            a["call_ts"] = max(a["call_ts"] or end, end)
        return
    if a["call_ts"] is not None and e.ts < a["call_ts"] and a["call_uid"] != e.uid:
        return  # older than what the agent did since
    if e.name == RING:
        if a["call_state"] == "talking" and a["call_uid"] != e.uid:
            return  # busy on another call (no ring-in-use)
        if a["call_state"] == "talking":
            return  # the answer of this call came first
        a.update(call_uid=e.uid, call_state="ringing", call_queue=e.queue or None,
                 call_since=e.ts, call_ts=e.ts)
    else:  # SERVED, EXT_ANSWER: talking
        if a["call_state"] == "talking" and a["call_uid"] == e.uid:
            return
        a.update(call_uid=e.uid, call_state="talking", call_queue=e.queue or a["call_queue"],
                 call_since=e.ts, call_ts=e.ts)


def _logged_by_activity(b: Batch, e: Ev) -> None:
    """A ring, an answer or a pause of a member not logged in: assume the login missed."""
    m = b.member(e.tenant, e.agent, e.queue, e.ts, e.qname)
    if not m["logged_in"] and m["login_ts"] <= e.ts:
        m.update(logged_in=True, login_ts=e.ts, assumed="no_login")


def on_member(b: Batch, e: Ev) -> None:
    if not e.agent:
        return
    if e.name in (ADDED, REMOVED):
        m = b.member(e.tenant, e.agent, e.queue, e.ts, e.qname)
        if e.name == ADDED and m["logged_in"] and m["assumed"] == "no_login":
            m.update(login_ts=min(m["login_ts"], e.ts), assumed=None)  # the login came late
        elif m["login_ts"] <= e.ts:
            m.update(logged_in=e.name == ADDED, login_ts=e.ts, assumed=None)
            if e.name == REMOVED and (m["pause_ts"] is None or m["pause_ts"] <= e.ts):
                m.update(paused=False, reason=None, pause_ts=e.ts)
        return
    rows = ([b.member(e.tenant, e.agent, e.queue, e.ts, e.qname)] if e.queue else
            b.members_of(e.tenant, e.agent) or [b.member(e.tenant, e.agent, "", e.ts)])
    for m in rows:
        b.dirty_members.add((m["tenant"], m["agent"], m["queue"]))
        if m["pause_ts"] is not None and e.ts < m["pause_ts"]:
            continue  # older than the pause state we hold
        m.update(paused=e.name == PAUSE, reason=e.reason if e.name == PAUSE else None,
                 pause_ts=e.ts)
        if e.name == PAUSE and not m["logged_in"] and m["login_ts"] <= e.ts:
            m.update(logged_in=True, login_ts=e.ts, assumed="no_login")


def on_call(b: Batch, e: Ev) -> None:
    """End, expiry, transfer and extension answers: what they do to visits and agents."""
    call = (e.tenant, e.uid)
    if e.name in (CALL_END, EXPIRE):
        prev = b.ended.get(call)
        b.ended[call] = e.ts if prev is None else min(prev, e.ts)
        for k in b.by_call.get(call, ()):
            v = b.visits[k]
            if v["ended_at"] is None:
                _end_visit(b, v, e.ts, "expired" if e.name == EXPIRE else "no_exit")
                b.dirty_visits.add(k)
        for a in [a for a in b.agents.values() if a["tenant"] == e.tenant
                  and a["call_uid"] == e.uid]:
            _release(b, a, e.ts, talked=a["call_state"] == "talking" and e.name == CALL_END,
                     assumed="expired" if e.name == EXPIRE else None)
        return
    if e.name == TRANSFER:
        if e.agent:
            a = b.agent(e.tenant, e.agent, e.account)
            if a["call_uid"] == e.uid:
                _release(b, a, e.ts, talked=True)
            for k in b.by_call.get(call, ()):
                v = b.visits[k]
                if v["agent"] == e.agent and v["outcome"] == "answered" and not v["ended_at"]:
                    v["ended_at"] = e.ts
                    b.dirty_visits.add(k)
        if e.recipient:
            on_agent_call(b, Ev(EXT_ANSWER, e.ts, e.eid, e.tenant, e.uid, "", None,
                                e.recipient, None, None, None, None))
        return
    if e.agent:  # EXT_ANSWER
        on_agent_call(b, e)


def _release(b: Batch, a: dict, ts: datetime, *, talked: bool, assumed: str | None = None
             ) -> None:
    a.update(call_uid=None, call_state=None, call_queue=None, call_since=None,
             call_ts=max(ts, a["call_ts"]) if a["call_ts"] else ts)
    if talked and (a["last_call_end"] is None or ts > a["last_call_end"]):
        a["last_call_end"] = ts
    if assumed:
        a.update(assumed=assumed, assumed_at=ts)
    b.dirty_agents.add((a["tenant"], a["agent"]))


FREEING = frozenset({UNSERVED, CALL_END, EXPIRE})  # the events `b.agents` is scanned by call for
HANDLERS = {ENTER: on_queue, ENQUEUE: on_queue, RING: on_queue, NOANSWER: on_queue,
            SERVED: on_queue, UNSERVED: on_queue, ADDED: on_member, REMOVED: on_member,
            PAUSE: on_member, UNPAUSE: on_member, CALL_END: on_call, TRANSFER: on_call,
            EXT_ANSWER: on_call, EXPIRE: on_call}


# ------------------------------------------------------------------------- entry points

def apply(conn: sa.Connection, rows: Iterable[dict], now: datetime) -> int:
    """Apply the tracked events among `rows` (parsed `pbx_events` rows) inside the caller's
    transaction. Returns how many were tracked. Run before `live_calls.apply` of the same
    commit, so that `live_call_ends` holds only the ends of earlier commits."""
    evs = [e for r in rows if (e := normalize(r, now)) is not None]
    return apply_events(conn, evs, now)


def apply_events(conn: sa.Connection, evs: list[Ev], now: datetime) -> int:
    evs = [e for e in evs if e.uid or e.name in (ADDED, REMOVED, PAUSE, UNPAUSE)]
    if not evs:
        return 0
    evs.sort(key=lambda e: (e.ts, ORDER[e.name], e.eid))
    b = Batch(conn, evs, now)
    for e in evs:
        HANDLERS[e.name](b, e)
    _write(b)
    return len(evs)


def _write(b: Batch) -> None:
    conn, now = b.conn, b.now
    deltas: dict[Key, dict[str, int]] = {}
    answers: dict[Key, dict[date, int]] = {}
    for k in b.dirty_visits:
        new, old = b.visits[k], b.orig_visits.get(k)
        new["updated_at"] = now
        d = deltas.setdefault((k[0], k[2], new["day"]), {c: 0 for c in COUNTERS})
        d["_name"] = new["queue_name"]
        d.setdefault("_longest", 0)
        if new["assumed"] != "no_exit":  # a provisional outcome's wait is not a record
            d["_longest"] = max(d.get("_longest", 0), new["wait_s"] or 0)
        for c, n in contribution(new).items():
            d[c] += n
        for c, n in contribution(old).items():
            d[c] -= n
        for v, sign in ((new, 1), (old, -1)):
            if v and v["outcome"] == "answered" and v["agent"]:
                per = answers.setdefault((k[0], v["agent"]), {})
                per[v["day"]] = per.get(v["day"], 0) + sign
    for (tenant, name), per in answers.items():
        for day, n in per.items():
            if n:
                _add_calls(b, b.agent(tenant, name), day, n)
    if b.dirty_visits:
        ops.upsert(conn, _V, [b.visits[k] for k in sorted(b.dirty_visits)],
                   ["tenant", "unique_id", "queue", "n"], _nonkey(_V))
    _write_counters(conn, deltas, now)
    for k in b.dirty_agents:
        b.agents[k]["updated_at"] = now
    if b.dirty_agents:
        ops.upsert(conn, _A, [b.agents[k] for k in sorted(b.dirty_agents)],
                   ["tenant", "agent"], _nonkey(_A))
    for k in b.dirty_members:
        b.members[k]["updated_at"] = now
    if b.dirty_members:
        ops.upsert(conn, _M, [b.members[k] for k in sorted(b.dirty_members)],
                   ["tenant", "agent", "queue"], _nonkey(_M))


def _add_calls(b: Batch, a: dict, day: date, n: int) -> None:
    if a["calls_day"] is None or day > a["calls_day"]:
        a.update(calls_day=day, calls_today=max(0, n))
    elif day == a["calls_day"]:
        a["calls_today"] = max(0, a["calls_today"] + n)


def _nonkey(t: sa.Table) -> list[str]:
    return [c.name for c in t.columns if not c.primary_key]


@functools.cache
def _counter_upsert(dialect: str) -> sa.Insert:
    """The counters' deltas in one statement: a new (queue, day) row takes them as they are
    (0 + delta), an existing one adds them. Built once per back-end (building it cost more than
    running it); one statement, not an insert of zeros and an update, on the intake's path."""
    from sqlalchemy.dialects import postgresql, sqlite

    ins = (sqlite.insert(_C) if dialect == "sqlite" else postgresql.insert(_C))
    x = ins.excluded
    return ins.on_conflict_do_update(
        index_elements=["tenant", "queue", "day"],
        set_={**{c: _C.c[c] + x[c] for c in COUNTERS},
              "longest_wait_s": sa.case((_C.c.longest_wait_s < x.longest_wait_s,
                                         x.longest_wait_s), else_=_C.c.longest_wait_s),
              "queue_name": sa.func.coalesce(x.queue_name, _C.c.queue_name),
              "updated_at": x.updated_at})


def _write_counters(conn: sa.Connection, deltas: dict[Key, dict], now: datetime) -> None:
    if not deltas:
        return
    direct.execute(conn, _counter_upsert(conn.dialect.name), [
        {"tenant": t, "queue": q, "day": d, "queue_name": v["_name"], "updated_at": now,
         "longest_wait_s": v["_longest"], **{c: v[c] for c in COUNTERS}}
        for (t, q, d), v in sorted(deltas.items())])


# ------------------------------------------------------------------------- upkeep

def _serialize(conn: sa.Connection) -> None:
    """Order this transaction with the intake's commits (PostgreSQL; SQLite's BEGIN IMMEDIATE
    already does)."""
    if conn.dialect.name == "postgresql":
        from pbxlens.ingest.inbox import INBOX_LOCK

        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(INBOX_LOCK)))


@dataclass(frozen=True)
class Expiry:
    """What `expire` has to do: the calls with no news for the maximum age, and whether days
    past their keeping are stored."""

    stale: frozenset[Key]
    old_days: bool


def expiry_due(conn: sa.Connection, now: datetime, max_age: timedelta,
               keep_days: int = 7) -> Expiry:
    """`expire`'s reads, for a read transaction: they scan today's visits (tens of thousands
    at 1,000 events/s), which inside the write transaction held every webhook commit ~0.4 s."""
    cut = now - max_age
    stale = {(t, u) for t, u in conn.execute(
        sa.select(_V.c.tenant, _V.c.unique_id).where(_V.c.ended_at.is_(None),
                                                     _V.c.updated_at < cut))}
    stale |= {(t, u) for t, u in conn.execute(
        sa.select(_A.c.tenant, _A.c.call_uid).where(_A.c.call_uid.is_not(None),
                                                    _A.c.call_ts < cut))}
    today = now.astimezone(defs.zone()).date()
    old = any(conn.execute(sa.select(sa.literal(1)).where(cond).limit(1)).first()
              for cond in (_V.c.day < today - timedelta(days=1),
                           _C.c.day < today - timedelta(days=keep_days)))
    return Expiry(frozenset(stale), old)


def expire(conn: sa.Connection, now: datetime, max_age: timedelta, keep_days: int = 7,
           due: Expiry | None = None) -> int:
    """End what never ended: visits and agent calls with no news for `max_age` are assumed
    over (code `expired`); visits older than yesterday and counters older than `keep_days`
    are dropped. `due` (from `expiry_due`, read before this transaction) limits the work to
    what it found, each call checked again here by its key. Returns the calls expired."""
    _serialize(conn)
    if due is None:
        due = expiry_due(conn, now, max_age, keep_days)
    elif due.stale:
        due = Expiry(_still_stale(conn, sorted(due.stale), now - max_age), due.old_days)
    apply_events(conn, [Ev(EXPIRE, now, 0, t, u, "", None, None, None, None, None, None)
                        for t, u in sorted(due.stale)], now)
    if due.old_days:
        today = now.astimezone(defs.zone()).date()
        conn.execute(_V.delete().where(_V.c.day < today - timedelta(days=1)))
        conn.execute(_C.delete().where(_C.c.day < today - timedelta(days=keep_days)))
    return len(due.stale)


def _still_stale(conn: sa.Connection, calls: list[Key], cut: datetime) -> frozenset[Key]:
    """The `calls` still without news since `cut` (news may have come since the read)."""
    out = {(r["tenant"], r["unique_id"]) for r in ops.select_pairs(
        conn, _V, (_V.c.tenant, _V.c.unique_id), calls)
        if r["ended_at"] is None and r["updated_at"] < cut}
    out |= {(r["tenant"], r["call_uid"]) for r in ops.select_pairs(
        conn, _A, (_A.c.tenant, _A.c.call_uid), calls)
        if r["call_ts"] is not None and r["call_ts"] < cut}  # as SQL's NULL < cut: not stale
    return frozenset(out)


def local_midnight(now: datetime) -> datetime:
    z = defs.zone()
    d = now.astimezone(z).date()
    return datetime(d.year, d.month, d.day, tzinfo=z).astimezone(UTC)


def rebuild(conn: sa.Connection, now: datetime) -> int:
    """Rebuild today's live state from today's stored events (the inbox rows received since
    local midnight), e.g. at a restart. Agents and members are rebuilt from scratch; visits and
    counters of earlier days stay. Returns the events applied."""
    _serialize(conn)
    since = local_midnight(now)
    today = now.astimezone(defs.zone()).date()
    for t in (_A, _M):
        conn.execute(t.delete())
    conn.execute(_V.delete().where(_V.c.day >= today))
    conn.execute(_C.delete().where(_C.c.day >= today))
    inbox = schema.event_inbox
    q = (sa.select(inbox.c.id, inbox.c.payload)
         .where(inbox.c.source == "events", inbox.c.rows > 0, inbox.c.received_at >= since)
         .order_by(inbox.c.id))
    n, page = 0, []
    for _id, payload in conn.execute(q):
        page += [e for r in json.loads(payload) if (e := normalize(r, now)) is not None]
        if len(page) >= 5 * CHUNK:
            n += _replay(conn, page, now)
            page = []
    return n + _replay(conn, page, now)


def _replay(conn: sa.Connection, evs: list[Ev], now: datetime) -> int:
    # earlier days' visits are merged again (facts merge: nothing counts twice)
    return apply_events(conn, evs, now)
