"""A staffing plan from a queue's history: per 15/30/60-minute interval of a typical day, the
calls offered, the traffic, the agents needed by Erlang C (and Erlang A for abandoning callers)
for the queue's service-level target under an occupancy cap and with shrinkage, beside the
agents actually logged in and their occupancy.

From the history of [from, to] (days of the chosen kind: weekdays Monday-Friday, every day, or
one weekday):
- calls per interval = the queue's visits that arrived in it (the call's start, PBX-local
  wall clock), divided by the number of such days: an average day;
- AHT = (Σ talk of answered visits + wrap-up × answered) / answered, over the whole history;
- patience (Erlang A) = Σ waits of every visit / abandoned visits (the exponential patience's
  estimate from censored waits; CANCELED = abandoned); none without abandons;
- the target: the queue's service-level definition (threshold T, target %), else the settings;
- logged in = the queue's logged-in time minus pauses (agent activity) overlapping the
  interval, per day, in agents; actual occupancy = the interval's workload (its calls × AHT)
  / that available time.

Requirements stay unrounded per queue and interval (`exact`); the agents to schedule are
⌈exact / (1 − shrinkage)⌉, and a plan of several queues sums the unrounded requirements before
rounding up once, which needs fewer agents than summing rounded queues.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.reports import definitions, staffing
from pbxlens.reports.staffing import round_up

INTERVALS = (15, 30, 60)
DAY_KINDS = {"weekdays": (1, 2, 3, 4, 5), "all": (1, 2, 3, 4, 5, 6, 7),
             **{name: (i,) for i, name in enumerate(
                 ("", "mon", "tue", "wed", "thu", "fri", "sat", "sun")) if i}}


class StaffingError(PbxlensError):
    status = 400


@dataclass
class Interval:
    slot: int
    label: str              # "08:30"
    calls: float            # offered per average day
    traffic: float          # Erlangs
    exact: float            # agents needed, unrounded (Erlang C, or A)
    agents: int             # ⌈exact⌉
    scheduled: int          # ⌈exact / (1 − shrinkage)⌉
    exact_c: float          # Erlang C's requirement (also when the plan uses Erlang A)
    service_level: float | None   # expected at `agents`, percent
    asa_s: float | None           # Erlang C's ASA at `agents`
    occupancy: float | None       # expected at `agents`, percent
    logged_in: float | None       # average agents available (logged in − paused)
    actual_occupancy: float | None  # percent


@dataclass
class QueuePlan:
    qkey: str
    label: str
    days: int
    aht_s: float | None
    patience_s: float | None
    threshold_s: int
    target_pct: int
    model: str                    # erlang_c | erlang_a
    intervals: list[Interval] = field(default_factory=list)


@dataclass
class Plan:
    queues: list[QueuePlan]
    minutes: int
    occupancy_cap: float
    shrinkage: float
    total_scheduled: list[int]    # per interval: ⌈Σ exact / (1 − shrinkage)⌉ over the queues
    summed_scheduled: list[int]   # per interval: Σ of each queue's own ⌈…⌉ (for comparison)


HISTORY_SQL = """
WITH v AS (
  SELECT v.answered, v.block, v.talk_s, v.asa_s, v.wait_s, {slot} AS slot
  FROM queue_visits v {join}
  WHERE v.tenant = ? AND v.qkey = ? AND v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE)
    AND list_contains(?, isodow(v.day)) {range}
)
SELECT slot, count(*) AS calls, count(*) FILTER (WHERE answered) AS answered,
  coalesce(sum(talk_s) FILTER (WHERE answered), 0) AS talk,
  count(*) FILTER (WHERE block IN ('CANCELED', 'CANCELED NOWAIT')) AS abandoned,
  coalesce(sum(CASE WHEN answered THEN asa_s ELSE wait_s END), 0) AS waited
FROM v GROUP BY slot
"""
# the minute of the call's start needs the call; whole hours are on the visit already
_MINUTE = ("CAST((hour(c.start_local) * 60 + minute(c.start_local)) // ? AS INTEGER)",
           "JOIN calls c ON c.tenant = v.tenant AND c.unique_id = v.unique_id "
           "AND c.leg_branch = v.leg_branch",
           "AND c.start_local >= CAST(? AS DATE) "
           "AND c.start_local < CAST(? AS DATE) + INTERVAL 1 DAY")

LOGGED_SQL = """
WITH d AS (
  SELECT CAST(range AS DATE) AS day FROM range(CAST(? AS DATE), CAST(? AS DATE) + INTERVAL 1 DAY,
    INTERVAL 1 DAY) WHERE list_contains(?, isodow(CAST(range AS DATE)))
), s AS (
  SELECT g.slot, timezone(?, d.day + to_minutes(g.slot * ?)) AS lo,
    timezone(?, d.day + to_minutes((g.slot + 1) * ?)) AS hi
  FROM d CROSS JOIN (SELECT range AS slot FROM range(0, 1440 // ?)) g
), i AS (
  SELECT kind, start_ts, coalesce(end_ts, CAST(? AS TIMESTAMPTZ)) AS end_ts
  FROM agent_intervals
  WHERE tenant = ? AND qkey = ? AND start_ts < CAST(? AS TIMESTAMPTZ)
    AND coalesce(end_ts, CAST(? AS TIMESTAMPTZ)) > CAST(? AS TIMESTAMPTZ)
)
SELECT s.slot, i.kind,
  sum(epoch(least(i.end_ts, s.hi)) - epoch(greatest(i.start_ts, s.lo))) AS secs
FROM s JOIN i ON i.start_ts < s.hi AND i.end_ts > s.lo
GROUP BY ALL
"""


def _days(d_from: date, d_to: date, kind: tuple[int, ...]) -> int:
    return sum((d_from + timedelta(days=i)).isoweekday() in kind
               for i in range((d_to - d_from).days + 1))


def _definition(con, tenant: str, qkey: str) -> tuple[int, int]:
    row = con.execute("SELECT sl_threshold_s, sl_target_pct FROM queue_definitions "
                      "WHERE tenant = ? AND qkey = ?", [tenant, qkey]).fetchone()
    if row:
        return int(row[0]), int(row[1])
    d = definitions.default()
    return d.threshold_s, d.target_pct


def _history(con, tenant: str, qkey: str, d_from: date, d_to: date, kind: tuple[int, ...],
             minutes: int) -> dict[int, dict]:
    if minutes == 60:
        sql = HISTORY_SQL.format(slot="v.hr", join="", range="")
        args = [tenant, qkey, d_from.isoformat(), d_to.isoformat(), list(kind)]
    else:
        slot, join, rng = _MINUTE
        sql = HISTORY_SQL.format(slot=slot, join=join, range=rng)
        args = [minutes, tenant, qkey, d_from.isoformat(), d_to.isoformat(), list(kind),
                d_from.isoformat(), d_to.isoformat()]
    cur = con.execute(sql, args)
    cols = [c[0] for c in cur.description]
    return {int(r[0]): dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def _logged(con, tenant: str, qkey: str, d_from: date, d_to: date, kind: tuple[int, ...],
            minutes: int) -> dict[int, float]:
    """Available agent-seconds per slot (logged in − paused) over the days of the range."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    tz = get_settings().timezone
    lo = datetime.combine(d_from, time(0), ZoneInfo(tz))
    hi = datetime.combine(d_to + timedelta(days=1), time(0), ZoneInfo(tz))
    rows = con.execute(LOGGED_SQL, [d_from.isoformat(), d_to.isoformat(), list(kind), tz,
                                    minutes, tz, minutes, minutes, hi, tenant, qkey, hi, hi,
                                    lo]).fetchall()
    out: dict[int, float] = {}
    for slot, k, secs in rows:
        out[int(slot)] = out.get(int(slot), 0.0) + (1 if k == "logged" else -1) * float(secs)
    return out


def queue_plan(con, tenant: str, qkey: str, d_from: date, d_to: date, *, minutes: int = 30,
               day_kind: str = "weekdays", occupancy_cap: float = 0.85,
               shrinkage: float = 0.30, wrap_s: float = 0.0, erlang_a: bool = False,
               target_pct: int | None = None, threshold_s: int | None = None,
               label: str | None = None) -> QueuePlan:
    """The plan of one queue (see the module's docstring)."""
    if minutes not in INTERVALS:
        raise StaffingError(f"the interval is 15, 30 or 60 minutes, not {minutes}")
    if day_kind not in DAY_KINDS:
        raise StaffingError(f"day: one of {', '.join(DAY_KINDS)}")
    if not 0 <= shrinkage < 1 or not 0 < occupancy_cap <= 1:
        raise StaffingError("shrinkage is 0 to 99 %, the occupancy cap 1 to 100 %")
    kind = DAY_KINDS[day_kind]
    days = _days(d_from, d_to, kind)
    t_def, target_def = _definition(con, tenant, qkey)
    t_s = threshold_s if threshold_s is not None else t_def
    target = target_pct if target_pct is not None else target_def
    hist = _history(con, tenant, qkey, d_from, d_to, kind, minutes)
    answered = sum(h["answered"] for h in hist.values())
    aht = ((sum(h["talk"] for h in hist.values()) + wrap_s * answered) / answered
           if answered else None)
    abandoned = sum(h["abandoned"] for h in hist.values())
    waited = sum(h["waited"] for h in hist.values())
    patience = waited / abandoned if abandoned and waited else None
    use_a = erlang_a and patience is not None
    logged = _logged(con, tenant, qkey, d_from, d_to, kind, minutes)
    plan = QueuePlan(qkey, label or qkey, days, aht, patience, t_s, target,
                     "erlang_a" if use_a else "erlang_c")
    slot_s = minutes * 60
    for slot in range(1440 // minutes):
        h = hist.get(slot, {})
        calls = h.get("calls", 0) / days if days else 0.0
        rate = calls / slot_s
        avail = logged.get(slot)
        logged_in = avail / (slot_s * days) if avail is not None and days else None
        plan.intervals.append(_interval(slot, minutes, calls, rate, aht, t_s, target / 100,
                                        occupancy_cap, shrinkage,
                                        patience if use_a else math.inf, logged_in))
    return plan


def _interval(slot, minutes, calls, rate, aht, t_s, target, cap, shrinkage, patience,
              logged_in) -> Interval:
    label = f"{slot * minutes // 60:02d}:{slot * minutes % 60:02d}"
    if not rate or not aht:
        return Interval(slot, label, calls, 0.0, 0.0, 0, 0, 0.0, None, None, None, logged_in,
                        0.0 if logged_in else None)
    traffic = rate * aht
    exact_c = staffing.exact_agents(rate, aht, target, t_s, cap)
    exact = (exact_c if math.isinf(patience) else
             staffing.exact_agents(rate, aht, target, t_s, cap, patience))
    n = round_up(exact)
    sl = staffing.service_level(rate, aht, n, t_s, patience)
    occ = staffing.occupancy(rate, aht, n, patience)
    asa = staffing.asa_c(traffic, n, aht)
    actual = (100 * traffic / logged_in) if logged_in else None
    return Interval(slot, label, calls, traffic, exact, n, round_up(exact / (1 - shrinkage)),
                    exact_c, round(100 * sl, 2), None if math.isinf(asa) else round(asa, 1),
                    round(100 * occ, 2), logged_in,
                    None if actual is None else round(min(actual, 999.0), 2))


def plan(con, tenant: str, queues: list[str], d_from: date, d_to: date, **kw) -> Plan:
    """The plans of several queues and their joint schedule (rounded once per interval)."""
    if not queues:
        raise StaffingError("choose at least one queue")
    labels = dict(con.execute("SELECT id, coalesce(name, id) FROM queues WHERE tenant = ?",
                              [tenant]).fetchall())
    plans = [queue_plan(con, tenant, q, d_from, d_to, label=labels.get(q, q), **kw)
             for q in queues]
    shrink = kw.get("shrinkage", 0.30)
    n = len(plans[0].intervals)
    total = [round_up(sum(p.intervals[i].exact for p in plans) / (1 - shrink)) for i in range(n)]
    summed = [sum(p.intervals[i].scheduled for p in plans) for i in range(n)]
    return Plan(plans, kw.get("minutes", 30), kw.get("occupancy_cap", 0.85), shrink, total,
                summed)
