"""The wallboard snapshot: the live tables read once and shaped per tenant (raw numbers,
instants as ISO text). The server computes it once per tick (`pbxlens.live.hub`); pages, the
API, kiosks and alert rules all read that one snapshot, scoped and masked per viewer.

An agent's state is derived here from the registers the intake keeps (pbxlens.live.state):
talking or ringing (its call register), else logged out (no queue logged in), else paused
(paused in every queue it is logged in to; the reason of the latest pause), else wrap-up (for
`live_wrapup_s` after its last call), else available. Per queue, an agent logged in to it is
talking/ringing as above, paused when paused in that queue, else wrap-up or available.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from pbxlens.config import get_settings
from pbxlens.live import definitions as defs
from pbxlens.live.state import local_midnight, secs
from pbxlens.reports import definitions as rdefs
from pbxlens.reports.engine import pct
from pbxlens.store import privacy, schema

STATES = ("talking", "ringing", "wrapup", "available", "paused", "logged_out")
_V, _C = schema.live_visits, schema.live_counters
_A, _M = schema.live_agents, schema.live_members


@dataclass(frozen=True)
class Names:
    """Directory names (from the analytics store) for queues and operators."""

    queues: dict[tuple[str, str], str]
    operators: dict[tuple[str, str], str]


NO_NAMES = Names({}, {})


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def read_tables(conn: sa.Connection, now: datetime) -> dict[str, list]:
    """The rows a snapshot needs: active visits, today's counters, agents and members with
    something today or still logged in."""
    today = now.astimezone(defs.zone()).date()
    since = local_midnight(now)
    return {
        "visits": list(conn.execute(sa.select(_V).where(_V.c.ended_at.is_(None))).mappings()),
        "counters": list(conn.execute(sa.select(_C).where(_C.c.day == today)).mappings()),
        "agents": list(conn.execute(sa.select(_A)).mappings()),
        "members": list(conn.execute(sa.select(_M).where(
            sa.or_(_M.c.logged_in.is_(True), _M.c.updated_at >= since))).mappings()),
        "today": today,
    }


def compute(conn: sa.Connection, now: datetime, names: Names = NO_NAMES) -> dict[str, dict]:
    """tenant -> its snapshot (see `tenant_snapshot`)."""
    t = read_tables(conn, now)
    t["defs"] = defs.load(conn)
    tenants = ({r["tenant"] for r in t["visits"]} | {r["tenant"] for r in t["counters"]}
               | {r["tenant"] for r in t["members"]})
    return {tn: tenant_snapshot(tn, t, now, names) for tn in sorted(tenants)}


def agent_state(a: dict | None, members: list[dict], now: datetime, wrapup_s: int
                ) -> tuple[str, str | None, datetime | None]:
    """(state, pause reason, since) of one agent."""
    if a and a["call_state"] in ("talking", "ringing"):
        return a["call_state"], None, a["call_since"]
    logged = [m for m in members if m["logged_in"]]
    if not logged:
        return "logged_out", None, max((m["login_ts"] for m in members), default=None)
    if all(m["paused"] for m in logged):
        last = max(logged, key=lambda m: m["pause_ts"])
        return "paused", last["reason"], last["pause_ts"]
    end = a["last_call_end"] if a else None
    if end is not None and now < end + timedelta(seconds=wrapup_s):
        return "wrapup", None, end
    marks = [min(m["login_ts"] for m in logged)]
    marks += [m["pause_ts"] for m in logged if m["pause_ts"] is not None and not m["paused"]]
    if a is not None:
        marks += [x for x in (a["call_ts"],) if x is not None]
        if end is not None:
            marks.append(end + timedelta(seconds=wrapup_s))
    return "available", None, max(marks)


def _today(c: dict | None, sl: defs.QueueDefinition) -> dict:
    c = c or {}
    g = {k: int(c.get(k) or 0) for k in ("offered", "answered", "sl_hit", "abandoned",
                                         "short_abandoned", "never_queued", "unanswered",
                                         "asa_sum_s", "longest_wait_s")}
    # the queue's variant (reports/definitions.py); `abandoned` counts long abandons only
    sl_pct = rdefs.service_level(sl.variant, g["sl_hit"], g["answered"],
                                 g["abandoned"] + g["short_abandoned"], g["short_abandoned"],
                                 g["offered"])
    ab_den = g["offered"] - g["never_queued"] - g["short_abandoned"]
    sl_den = {"abandon_aware": g["answered"] + g["abandoned"], "offered": g["offered"],
              "answered": g["answered"],
              "offered_no_short": g["offered"] - g["short_abandoned"]}[sl.variant]
    g.update(sl_den=sl_den, sl_pct=sl_pct,
             asa_s=g["asa_sum_s"] // g["answered"] if g["answered"] else None,
             abandon_rate_pct=pct(g["abandoned"], ab_den) if ab_den > 0 else None,
             threshold_s=sl.threshold_s, target_pct=sl.target_pct, sl_variant=sl.variant,
             sl_ok=None if sl_pct is None else sl_pct >= sl.target_pct)
    return g


def tenant_snapshot(tenant: str, t: dict, now: datetime, names: Names) -> dict:
    wrapup = int(get_settings().live_wrapup_s)
    visits = [v for v in t["visits"] if v["tenant"] == tenant]
    counters = {c["queue"]: c for c in t["counters"] if c["tenant"] == tenant}
    members = [m for m in t["members"] if m["tenant"] == tenant]
    agents = {a["agent"]: a for a in t["agents"] if a["tenant"] == tenant}
    by_agent: dict[str, list[dict]] = {}
    for m in members:
        by_agent.setdefault(m["agent"], []).append(m)
    states = {n: agent_state(agents.get(n), ms, now, wrapup) for n, ms in by_agent.items()}
    qnames: dict[str, str | None] = {}
    for row in (*t["counters"], *visits, *members):
        if row["tenant"] == tenant and row["queue"]:
            qnames[row["queue"]] = qnames.get(row["queue"]) or row["queue_name"]
    queues = [_queue(q, names.queues.get((tenant, q)) or qnames[q] or q, visits,
                     counters.get(q), by_agent, states, now, t["defs"].of(tenant, q))
              for q in sorted(qnames, key=lambda q: ((names.queues.get((tenant, q))
                                                       or qnames[q] or q).lower(), q))]
    rows = [_agent(n, agents.get(n), by_agent[n], states[n], now, t["today"],
                   names.operators.get((tenant, n)) or n) for n in sorted(by_agent)]
    return {"tenant": tenant, "at": now.isoformat(), "day": t["today"].isoformat(),
            "queues": queues, "agents": rows}


def _queue(q: str, name: str, visits: list[dict], counters: dict | None,
           by_agent: dict[str, list[dict]], states: dict, now: datetime,
           sl: defs.QueueDefinition) -> dict:
    calls = []
    for v in visits:
        if v["queue"] != q:
            continue
        talking = v["outcome"] == "answered"
        calls.append({"unique_id": v["unique_id"], "caller": v["caller"],
                      "state": "talking" if talking else "waiting",
                      "entered_at": _iso(v["entered_at"]), "wait_s": secs(v["entered_at"], now)
                      if not talking else v["wait_s"],
                      "talk_s": secs(v["answered_at"], now) if talking else None,
                      "agent": v["agent"] if talking else None})
    calls.sort(key=lambda c: (c["state"] != "waiting", c["entered_at"]))
    waits = [c["wait_s"] for c in calls if c["state"] == "waiting"]
    counts = {s: 0 for s in STATES}
    for n, ms in by_agent.items():
        m = next((m for m in ms if m["queue"] == q), None)
        if m is None or not m["logged_in"]:
            continue
        st = states[n][0]
        if st not in ("talking", "ringing") and m["paused"]:
            st = "paused"
        elif st == "paused":  # paused elsewhere, not here
            st = "available"
        counts[st] += 1
    counts["logged_in"] = sum(counts[s] for s in STATES if s != "logged_out")
    return {"queue": q, "name": name, "waiting": len(waits),
            "talking": sum(c["state"] == "talking" for c in calls),
            "longest_wait_s": max(waits, default=0), "agents": counts,
            "today": _today(counters, sl), "calls": calls}


def _agent(n: str, a: dict | None, ms: list[dict], st: tuple, now: datetime, today: date,
           name: str) -> dict:
    state, reason, since = st
    calls = a["calls_today"] if a and a["calls_day"] == today else 0
    assumed = sorted({x for x in [m["assumed"] for m in ms] + [a and a["assumed"]] if x})
    return {"agent": n, "name": name, "account": a["account"] if a else None,
            "state": state, "reason": reason, "since": _iso(since),
            "in_state_s": secs(since, now) if since else None, "calls_today": calls,
            "queues": sorted(m["queue"] for m in ms if m["logged_in"] and m["queue"]),
            "paused_queues": sorted(m["queue"] for m in ms if m["logged_in"] and m["paused"]
                                    and m["queue"]),
            "call": ({"unique_id": a["call_uid"], "queue": a["call_queue"]}
                     if a and a["call_uid"] else None),
            "assumed": assumed}


def scoped(snap: dict | None, tenant: str, queues: list[str] | None = None, *,
           privacy_right: bool = False) -> dict:
    """One tenant's snapshot restricted to `queues` (None or [] = every queue; agents shown
    are those logged in to one of them, or with no queue at all when unrestricted), with
    callers masked unless the viewer holds the privacy right."""
    if snap is None:
        return {"tenant": tenant, "at": None, "day": None, "queues": [], "agents": []}
    qs = [q for q in snap["queues"] if not queues or q["queue"] in queues]
    keep = {q["queue"] for q in qs}
    agents = [a for a in snap["agents"]
              if not queues or keep.intersection(a["queues"])]
    if not privacy_right:
        qs = [{**q, "calls": [{**c, "caller": privacy.mask_number(c["caller"])}
                              for c in q["calls"]]} for q in qs]
    return {**snap, "queues": qs, "agents": agents}
