"""Calls in progress, kept by the event intake in the operations store (`live_calls`), in the
same transaction that commits the events to the inbox: no DuckDB on the way.

`pbx.call.start` adds a row (ringing), an answer makes it talking, `pbx.call.end` deletes it.
The missed-call module asks `in_progress(conn, tenant, number)` to know that a callback to a
number is under way; the wallboard will read the same rows.

Events come out of order and twice (the PBX retries, a batch is resent). The rules keep the
table free of ghosts whatever the order:
- an end is terminal: it deletes the row and is remembered in `live_call_ends`, so a start or
  an answer arriving later for that call is ignored; an end before its start deletes nothing;
- within one commit, starts apply before answers and answers before ends, so the outcome does
  not depend on the order inside the batch;
- a repeated start changes nothing; a row (or a remembered end) older than the setting
  `live_call_max_hours` is pruned: a call whose end never came does not stay forever.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from pbxlens.models import phone
from pbxlens.store import direct, ops, schema

START = "pbx.call.start"
END = "pbx.call.end"
ANSWERS = ("pbx.call.answer", "pbx.call.answered")
# Answer signals of other event families: they mark a known call as talking, never create one.
OTHER_ANSWERS = ("pbx.extension.answercall", "pbx.queue.servedcall")
CALLED_KEYS = ("called", "dnid", "destination", "called_num", "callee")
CALLER_KEYS = ("caller", "caller_num", "callerid", "src")
AGENT_KEYS = ("agent", "member_exten", "member", "extension")
QUEUE_KEYS = ("queue_name", "queue")
TRACKED = (START, END, *ANSWERS, *OTHER_ANSWERS)

_lc, _ends = schema.live_calls, schema.live_call_ends


def _first(params: dict, keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = params.get(k)
        if v not in (None, ""):
            return str(v)
    return None


def _row(ev: dict, now: datetime) -> dict:
    params = ev["params"]
    params = json.loads(params) if isinstance(params, str) else (params or {})
    called = _first(params, CALLED_KEYS)
    ts = ev.get("event_ts") or now
    return {"tenant": ev["tenant"], "unique_id": ev["unique_id"],
            "direction": _first(params, ("direction",)), "caller": _first(params, CALLER_KEYS),
            "called": called, "called_num": phone.national(called, outbound=True),
            "queue": _first(params, QUEUE_KEYS), "agent": _first(params, AGENT_KEYS),
            "ts": ts}


# The commit's statements, built once (the intake runs them at every commit: `direct`).
_MARK = (_lc.update()
         .where(_lc.c.tenant == sa.bindparam("k_tenant"),
                _lc.c.unique_id == sa.bindparam("k_uid"))
         .values(state="talking", updated_at=sa.bindparam("k_now", type_=schema.Instant),
                 answered_at=sa.func.coalesce(_lc.c.answered_at,
                                              sa.bindparam("k_ts", type_=schema.Instant)),
                 agent=sa.func.coalesce(sa.bindparam("k_agent", type_=sa.Text), _lc.c.agent)))
_DROP = _lc.delete().where(_lc.c.tenant == sa.bindparam("k_tenant"),
                           _lc.c.unique_id == sa.bindparam("k_uid"))


def apply(conn: sa.Connection, events: Iterable[dict], now: datetime) -> None:
    """Apply the call events among `events` (parsed `pbx_events` rows) to `live_calls`, inside
    the caller's transaction. A few statements per commit, not one per event."""
    starts: dict[tuple, dict] = {}
    answers: dict[tuple, dict] = {}
    others: dict[tuple, dict] = {}
    ends: dict[tuple, dict] = {}
    for ev in events:
        name = ev["event_name"]
        if name not in TRACKED or not ev.get("unique_id"):
            continue
        row = _row(ev, now)
        key = (row["tenant"], row["unique_id"])
        if name == START:
            if key not in starts or row["ts"] < starts[key]["ts"]:
                starts[key] = row
        elif name == END:
            ends[key] = row
        elif name in ANSWERS:
            answers.setdefault(key, row)
        else:
            others.setdefault(key, row)
    if not (starts or answers or others or ends):
        return
    done = _ended(conn, set(starts) | set(answers) | set(others)) | set(ends)
    fresh = [r for k, r in starts.items() if k not in done]
    if fresh:
        ops.insert_new(conn, _lc, [_live(r, "ringing", now) for r in fresh],
                       ["tenant", "unique_id"])
    talking = [r for k, r in answers.items() if k not in done]
    if talking:
        ops.insert_new(conn, _lc, [_live(r, "talking", now) for r in talking],
                       ["tenant", "unique_id"])
    marks = [r for k, r in (answers | others).items() if k not in done]
    if marks:
        direct.execute(conn, _MARK, [
            {"k_tenant": r["tenant"], "k_uid": r["unique_id"], "k_now": now, "k_ts": r["ts"],
             "k_agent": r["agent"]} for r in marks])
    if ends:
        direct.execute(conn, _DROP, [{"k_tenant": t, "k_uid": u} for t, u in ends])
        ops.insert_new(conn, _ends, [{"tenant": t, "unique_id": u, "ended_at": r["ts"]}
                                     for (t, u), r in ends.items()], ["tenant", "unique_id"])


def _live(r: dict, state: str, now: datetime) -> dict:
    return {"tenant": r["tenant"], "unique_id": r["unique_id"], "direction": r["direction"],
            "caller": r["caller"], "called": r["called"], "called_num": r["called_num"],
            "queue": r["queue"], "agent": r["agent"], "state": state, "started_at": r["ts"],
            "answered_at": r["ts"] if state == "talking" else None, "updated_at": now}


def _ended(conn: sa.Connection, keys: set[tuple]) -> set[tuple]:
    """The calls among `keys` whose end is remembered (by tenant and IN lists: a row-value
    IN read the whole table on SQLite, every remembered end, at each commit)."""
    rows = ops.select_pairs(conn, _ends, (_ends.c.tenant, _ends.c.unique_id), sorted(keys))
    return {(r["tenant"], r["unique_id"]) for r in rows}


def stale(conn: sa.Connection, now: datetime, max_age: timedelta) -> bool:
    """Whether `prune` has anything to drop (read first: most passes find nothing)."""
    cut = now - max_age
    return any(conn.execute(sa.select(sa.literal(1)).where(cond).limit(1)).first()
               for cond in (_lc.c.started_at < cut, _ends.c.ended_at < cut))


def prune(conn: sa.Connection, now: datetime, max_age: timedelta) -> int:
    """Drop calls (and remembered ends) older than `max_age`; returns the calls dropped."""
    cut = now - max_age
    n = conn.execute(_lc.delete().where(_lc.c.started_at < cut)).rowcount
    conn.execute(_ends.delete().where(_ends.c.ended_at < cut))
    return n


def in_progress(conn: sa.Connection, tenant: str, number: str | None) -> bool:
    """Whether a call to `number` (any form; compared in national form) is in progress."""
    num = phone.national(number, outbound=True)
    if not num:
        return False
    return conn.execute(sa.select(sa.literal(1)).where(
        _lc.c.tenant == tenant, _lc.c.called_num == num).limit(1)).first() is not None


def calls(conn: sa.Connection, tenant: str | None = None) -> list[dict]:
    """The calls in progress, oldest first (tests, the wallboard)."""
    q = sa.select(_lc).order_by(_lc.c.started_at, _lc.c.unique_id)
    if tenant is not None:
        q = q.where(_lc.c.tenant == tenant)
    return [dict(r) for r in conn.execute(q).mappings()]
