"""Call journeys: one row per call that opens to its path.

The list (`journeys`) is one SQL query over the calls of a range: the queues a call visited,
who answered, whether it was transferred, whether it left a callback request (the reconciled
`missed_requests`), and two columns across calls of the same number (national form, N hours
= setting `repeat_caller_hours`, default 24):

- **repeat caller**: the same number called in the N hours before this call;
- **first-contact resolution**: the call was answered and the number did not call again in the
  N hours after it (blank for unanswered calls).

The path (`journey`) of one call is its CDR detail lines in order: IVR menus (and the choice,
the next destination: the CDR holds no digits), each queue visit with its wait and outcome,
each operator rung (under the visit that rang them) and whether they answered, transfers
(ATXFER / BLINDXFER, and the transfer target), ring groups, voicemail, time controls, outbound
lines; the Call Center CDR's visits when the CDR has none; then, from the operations store, the
callback request the call belongs to with its booking and history, the tickets linked to the
call, and the PBX's recording link (`/rest/recordedCall/<id>`, privacy users only) when the PBX
API is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.missed_calls.numbers import national, national_sql
from pbxlens.reports import filters as flt
from pbxlens.store import schema as S

MAX_ROWS = 5000


class JourneyError(PbxlensError):
    status = 404


# ----------------------------------------------------------------------------- the list

LIST_SQL = """
WITH c AS (  -- the calls of the range, and of N hours around it (repeat / FCR)
  SELECT c.tenant, c.unique_id, c.leg_branch, c.start_ts, c.start_local, c.caller, c.called,
    c.direction, c.status, c.duration_s, c.answered_by,
    CAST(date_diff('second', c.start_ts, coalesce(c.answer_ts, c.end_ts)) AS INTEGER) AS wait_s,
    {num} AS num
  FROM calls c
  WHERE c.start_local >= CAST(? AS DATE) - to_hours(CAST(? AS BIGINT))
    AND c.start_local < CAST(? AS DATE) + INTERVAL 1 DAY + to_hours(CAST(? AS BIGINT)) {tw}
), n AS (
  SELECT c.*,
    lag(c.start_ts) OVER w AS prev_ts, lead(c.start_ts) OVER w AS next_ts
  FROM c WHERE c.direction = 'incoming' AND c.num <> ''
  WINDOW w AS (PARTITION BY c.tenant, c.num ORDER BY c.start_ts, c.unique_id)
), sel AS (
  SELECT c.* FROM c
  WHERE c.start_local >= CAST(? AS DATE) AND c.start_local < CAST(? AS DATE) + INTERVAL 1 DAY
    {where}
), q AS (
  SELECT v.tenant, v.unique_id, v.leg_branch,
    string_agg(coalesce(qq.name, nullif(v.queue_name, ''), v.queue_id, ''), ' → '
               ORDER BY v.seq) AS queues,
    bool_or(v.exit_cause IN ('ATXFER', 'BLINDXFER')) AS xfer_q
  FROM queue_visits v SEMI JOIN sel ON sel.tenant = v.tenant AND sel.unique_id = v.unique_id
  LEFT JOIN queues qq ON qq.tenant = v.tenant AND qq.id = v.queue_id
  GROUP BY ALL
), x AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, bool_or(l.exit_cause IN ('ATXFER', 'BLINDXFER'))
    AS xfer
  FROM call_legs l SEMI JOIN sel ON sel.tenant = l.tenant AND sel.unique_id = l.unique_id
  GROUP BY ALL
)
SELECT sel.tenant, sel.unique_id, sel.leg_branch, sel.start_local AS started, sel.caller,
  sel.called, sel.direction, sel.status, sel.duration_s, sel.wait_s, sel.answered_by,
  coalesce(q.queues, '') AS queues, coalesce(x.xfer, false) AS transferred,
  EXISTS (SELECT 1 FROM missed_requests r WHERE r.tenant = sel.tenant AND r.call_num = sel.num
          AND sel.start_ts BETWEEN r.first_call AND r.last_call) AS callback,
  CASE WHEN sel.direction = 'incoming' AND sel.num <> '' THEN
    coalesce(n.prev_ts >= sel.start_ts - to_hours(CAST(? AS BIGINT)), false) END AS repeat,
  CASE WHEN sel.direction = 'incoming' AND sel.num <> '' AND sel.status = 'OK' THEN
    NOT coalesce(n.next_ts <= sel.start_ts + to_hours(CAST(? AS BIGINT)), false) END AS fcr
FROM sel
LEFT JOIN n ON n.tenant = sel.tenant AND n.unique_id = sel.unique_id
  AND n.leg_branch = sel.leg_branch
LEFT JOIN q ON q.tenant = sel.tenant AND q.unique_id = sel.unique_id
  AND q.leg_branch = sel.leg_branch
LEFT JOIN x ON x.tenant = sel.tenant AND x.unique_id = sel.unique_id
  AND x.leg_branch = sel.leg_branch
WHERE 1 = 1 {after}
ORDER BY sel.start_ts, sel.unique_id, sel.leg_branch
"""


@dataclass
class JourneyList:
    rows: list[dict]
    total: int
    truncated: bool
    hours: int


def journeys(con, d_from: date, d_to: date, *, tenant: str | None = None,
             number: str | None = None, queue: str | None = None,
             direction: str | None = "incoming", repeat_only: bool = False,
             unresolved_only: bool = False, limit: int = 500, hours: int | None = None,
             unique_id: str | None = None) -> JourneyList:
    """One row per call of [d_from, d_to] (PBX-local days) with its journey summary."""
    if d_to < d_from:
        raise PbxlensError(f"the range is empty: {d_from} is after {d_to}")
    n = int(hours if hours is not None else get_settings().repeat_caller_hours)
    if not 1 <= n <= 24 * 31:
        raise PbxlensError("the repeat window is 1 to 744 hours")
    tw = flt.Where()
    if tenant is not None:
        tw.add("c.tenant = ?", tenant)
    w = flt.Where()
    if direction:
        w.add("c.direction = ?", direction)
    if unique_id:
        w.add("c.unique_id = ?", unique_id)
    if number:
        w.add("(c.num LIKE ? OR c.caller LIKE ? OR c.called LIKE ?)",
              *([f"%{national(number) or number}%"] + [f"%{number}%"] * 2))
    if queue:
        w.add("EXISTS (SELECT 1 FROM queue_visits v LEFT JOIN queues qq ON qq.tenant = v.tenant "
              "AND qq.id = v.queue_id WHERE v.tenant = c.tenant AND v.unique_id = c.unique_id "
              "AND (v.qkey = ? OR qq.name = ? OR v.queue_name = ?))", queue, queue, queue)
    after = flt.Where()
    if repeat_only:
        after.add("n.prev_ts >= sel.start_ts - to_hours(CAST(? AS BIGINT))", n)
    if unresolved_only:
        after.add("sel.status = 'OK' AND n.next_ts <= sel.start_ts + to_hours(CAST(? AS BIGINT))",
                  n)
    sql = LIST_SQL.format(num=national_sql("c.caller", False), tw=tw.sql(), where=w.sql(),
                          after=after.sql())
    args = [d_from.isoformat(), n, d_to.isoformat(), n, *tw.args, d_from.isoformat(),
            d_to.isoformat(), *w.args, n, n, *after.args]
    total = con.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0]  # noqa: S608 -- names and SQL fragments from code; values bound
    cur = con.execute(f"{sql} LIMIT ?", [*args, min(limit, MAX_ROWS)])
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return JourneyList(rows, int(total), total > len(rows), n)


# ----------------------------------------------------------------------------- the path


@dataclass
class Step:
    """One step of a call's path."""

    kind: str          # ivr | queue | agent | transfer | group | voicemail | checktime |
    #                    outbound | extension | service | other
    at: object         # local time the step starts
    label: str
    level: int = 0     # 1: an operator rung by the queue visit above
    outcome: str = ""  # the exit cause (normalized), or OK / FAILED for a time control
    answered: bool | None = None
    wait_s: int | None = None  # queue: until answer or exit; agent: ring time
    talk_s: int | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class Journey:
    call: dict
    steps: list[Step]
    callback: dict | None
    tickets: list[dict]
    recording: str | None
    repeat: bool | None = None
    fcr: bool | None = None


_LEGS_SQL = """
SELECT l.seq, l.dest_type, l.dest_id, l.dest_name, l.dest_num, l.source_num,
  CAST(timezone(?, l.enter_ts) AS TIMESTAMP) AS at, l.exit_cause, l.answered_by,
  l.checktime_in_hours, l.answer_ts IS NOT NULL AS has_answer,
  CAST(date_diff('second', l.enter_ts, coalesce(l.answer_ts, l.exit_ts)) AS INTEGER) AS wait_s,
  CAST(date_diff('second', l.answer_ts, l.exit_ts) AS INTEGER) AS talk_s,
  coalesce(q.name, o.name, r.name, i.name, ct.name) AS dir_name,
  g.q_seq, g.block, g.answered AS leg_answered
FROM call_legs l
LEFT JOIN queues q ON l.dest_type = 'queue' AND q.tenant = l.tenant AND q.id = l.dest_id
LEFT JOIN operators o ON l.dest_type = 'local_exten' AND o.tenant = l.tenant
  AND o.extension = l.dest_id
LEFT JOIN ring_groups r ON l.dest_type = 'callg' AND r.tenant = l.tenant AND r.id = l.dest_id
LEFT JOIN ivrs i ON l.dest_type = 'ivr' AND i.tenant = l.tenant AND i.id = l.dest_id
LEFT JOIN checktimes ct ON l.dest_type = 'checktime' AND ct.tenant = l.tenant
  AND ct.id = l.dest_id
LEFT JOIN agent_legs g ON g.tenant = l.tenant AND g.unique_id = l.unique_id
  AND g.leg_branch = l.leg_branch AND g.seq = l.seq AND g.kind = 'recv'
WHERE l.tenant = ? AND l.unique_id = ? AND l.leg_branch = ?
ORDER BY l.seq
"""

_KINDS = {"ivr": "ivr", "queue": "queue", "local_exten": "agent", "callg": "group",
          "voicemail": "voicemail", "checktime": "checktime", "obl": "outbound",
          "service": "service"}


def _name(r: dict) -> str:
    return r["dir_name"] or r["dest_name"] or r["dest_id"] or r["dest_num"] or ""


def _steps(legs: list[dict]) -> list[Step]:
    steps: list[Step] = []
    for i, r in enumerate(legs):
        kind = _KINDS.get(r["dest_type"] or "", "other")
        name = _name(r)
        st = Step(kind, r["at"], name, outcome=r["exit_cause"] or "", wait_s=r["wait_s"])
        if kind == "queue":
            st.answered = bool(r["has_answer"]) and r["exit_cause"] not in (
                "CANCELED", "NOANSWER", "TIMEOUT", "JOINEMPTY", "LEAVEEMPTY", "FULL", "CLOSED")
            st.talk_s = r["talk_s"] if st.answered else None
            st.detail["answered_by"] = r["answered_by"] or ""
        elif kind == "agent":
            st.level = 1 if r["q_seq"] is not None else 0
            st.answered = bool(r["leg_answered"])
            st.talk_s = r["talk_s"] if st.answered else None
            st.detail = {"extension": r["dest_id"] or "", "account": r["answered_by"] or "",
                         "block": r["block"] or ""}
            if r["source_num"] and r["source_num"] in {x["dest_id"] for x in legs[:i]
                                                      if x["dest_type"] == "local_exten"}:
                st.detail["transferred_by"] = r["source_num"]  # the transfer target
        elif kind == "ivr":
            nxt = legs[i + 1] if i + 1 < len(legs) else None  # the CDR holds no digits
            st.detail["choice"] = _name(nxt) if nxt else ""
            st.detail["choice_kind"] = _KINDS.get(nxt["dest_type"] or "", "other") if nxt else ""
        elif kind == "checktime":
            ok = (r["checktime_in_hours"] if r["checktime_in_hours"] is not None
                  else r["exit_cause"] != "CLOSED")
            st.outcome = "OK" if ok else "FAILED"
        steps.append(st)
        if r["exit_cause"] in ("ATXFER", "BLINDXFER") and _transfers_here(legs, i):
            by = r["dest_id"] if kind == "agent" else None
            target = next((x for x in legs[i + 1:] if x["dest_type"] == "local_exten"
                           and (by is None or x["source_num"] == by)
                           and (x["q_seq"] is None or x["q_seq"] != r["seq"])), None)
            steps.append(Step("transfer", r["at"], _name(target) if target else "",
                              level=st.level,
                              outcome="attended" if r["exit_cause"] == "ATXFER" else "blind",
                              detail={"by": by or r["answered_by"] or ""}))
    return steps


def _transfers_here(legs: list[dict], i: int) -> bool:
    """Whether leg i is where a transfer is shown: an operator leg that transferred, or a
    queue visit that exited by transfer with no operator leg of it saying so."""
    r = legs[i]
    if r["dest_type"] == "local_exten":
        return True
    if r["dest_type"] != "queue":
        return False
    return not any(x["q_seq"] == r["seq"] and x["exit_cause"] in ("ATXFER", "BLINDXFER")
                   for x in legs)


def _cc_steps(con, tenant: str, unique_id: str, tz: str) -> list[Step]:
    """The Call Center CDR's queue calls and operator presentations of the call."""
    steps: list[Step] = []
    visits = con.execute(
        "SELECT qkey, enter_ts, CAST(timezone(?, enter_ts) AS TIMESTAMP), coalesce(qq.name, "
        "nullif(v.queue_name, ''), v.queue_id, ''), v.exit_cause, v.answered, v.hold_s, "
        "v.talk_s FROM queue_calls v LEFT JOIN queues qq ON qq.tenant = v.tenant "
        "AND qq.id = v.queue_id WHERE v.tenant = ? AND v.unique_id = ? ORDER BY v.enter_ts",
        [tz, tenant, unique_id]).fetchall()
    for qkey, enter, at, label, cause, ans, hold, talk in visits:
        steps.append(Step("queue", at, label, outcome=cause or "", answered=ans, wait_s=hold,
                          talk_s=talk if ans else None, detail={"source": "callcenter"}))
        for ext, acc, ring_at, block, leg_ans, ring, ltalk in con.execute(
                "SELECT extension, account, CAST(timezone(?, ring_ts) AS TIMESTAMP), block, "
                "answered, ring_s, talk_s FROM cc_agent_legs WHERE tenant = ? AND unique_id = ? "
                "AND qkey = ? AND q_enter_ts = ? ORDER BY seq",
                [tz, tenant, unique_id, qkey, enter]).fetchall():
            steps.append(Step("agent", ring_at, ext or "", level=1, outcome=block,
                              answered=leg_ans, wait_s=ring, talk_s=ltalk if leg_ans else None,
                              detail={"extension": ext or "", "account": acc or "",
                                      "block": block}))
    return steps


def _callback(stores, tenant: str, num: str, start, unique_id: str) -> dict | None:
    """The callback request the call belongs to (first call <= start <= last call, or the
    callback call that closed it), its booking and its history."""
    if stores is None or not num:
        return None
    cr, b, h = S.callback_requests, S.missed_bookings, S.missed_history
    with stores.ops_read() as c:
        req = c.execute(sa.select(cr).where(
            cr.c.tenant == tenant, cr.c.call_num == num,
            sa.or_(sa.and_(cr.c.first_call <= start, cr.c.last_call >= start),
                   cr.c.closed_by == unique_id))
            .order_by(cr.c.first_call.desc()).limit(1)).mappings().first()
        if req is None:
            return None
        booking = c.execute(sa.select(b).where(b.c.tenant == tenant, b.c.call_num == num)
                            ).mappings().first()
        hist = c.execute(sa.select(h).where(h.c.tenant == tenant, h.c.call_num == num,
                                            sa.or_(h.c.request_key == req["request_key"],
                                                   h.c.request_key.is_(None)))
                         .order_by(h.c.at_ts)).mappings().all()
    out = dict(req)
    out["booking"] = dict(booking) if booking and req["state"] == "open" else None
    out["history"] = [dict(x) for x in hist]
    out["role"] = "callback" if req["closed_by"] == unique_id else "missed call"
    return out


def _tickets(stores, tenant: str, unique_id: str) -> list[dict]:
    if stores is None:
        return []
    tc, t = S.ticket_calls, S.tickets
    with stores.ops_read() as c:
        rows = c.execute(sa.select(t.c.id, t.c.number, t.c.title, t.c.status)
                         .join(tc, tc.c.ticket_id == t.c.id)
                         .where(tc.c.unique_id == unique_id, t.c.tenant == tenant)
                         .order_by(t.c.id)).mappings().all()
    return [dict(r) for r in rows]


def recording_link(call: dict) -> str | None:
    """The PBX's recording of the call: a recording path the export carried, else the PBX
    API's `/rest/recordedCall/<unique id>` when the PBX is configured (pbx_data.md §1)."""
    import json

    extra = call.get("extra")
    if extra:
        try:
            for k, v in json.loads(extra).items():
                if "record" in k.lower() and v:
                    return str(v)
        except (ValueError, AttributeError):
            pass
    base = get_settings().pbx_url
    return f"{base.rstrip('/')}/rest/recordedCall/{call['unique_id']}" if base else None


def journey(con, unique_id: str, *, tenant: str | None = None, stores=None,
            leg_branch: int = 0) -> Journey:
    """The path of one call (`tenant` None: any tenant's); `stores` adds the operations
    store's callback request, booking, history and tickets."""
    tz = get_settings().timezone
    cur = con.execute(
        "SELECT tenant, unique_id, leg_branch, CAST(timezone(?, start_ts) AS TIMESTAMP) AS "
        "started, start_ts, caller, called, direction, status, duration_s, answered_by, "
        "CAST(extra AS VARCHAR) AS extra FROM calls WHERE unique_id = ? AND leg_branch = ? "
        "AND tenant = coalesce(?, tenant) ORDER BY tenant LIMIT 1",
        [tz, unique_id, leg_branch, tenant])
    row = cur.fetchone()
    if row is None:
        raise JourneyError(f"no call {unique_id!r}")
    call = dict(zip([d[0] for d in cur.description], row, strict=True))
    cur = con.execute(_LEGS_SQL, [tz, call["tenant"], unique_id, leg_branch])
    legs = [dict(zip([d[0] for d in cur.description], r, strict=True)) for r in cur.fetchall()]
    steps = _steps(legs)
    if not any(s.kind == "queue" for s in steps):
        steps += _cc_steps(con, call["tenant"], unique_id, tz)
    day = call["started"].date()
    listed = journeys(con, day, day, tenant=call["tenant"], direction=None, unique_id=unique_id)
    mine = next((r for r in listed.rows if r["leg_branch"] == leg_branch), {})
    num = national(call["caller"]) if call["direction"] == "incoming" else national(
        call["called"], outbound=True)
    return Journey(call=call, steps=steps,
                   callback=_callback(stores, call["tenant"], num, call["start_ts"], unique_id),
                   tickets=_tickets(stores, call["tenant"], unique_id),
                   recording=recording_link(call), repeat=mine.get("repeat"),
                   fcr=mine.get("fcr"))
