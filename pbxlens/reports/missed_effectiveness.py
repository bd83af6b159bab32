"""Callback effectiveness (`missed.effectiveness`): how well missed calls were recovered.

Over the callback requests whose first missed call falls in the range (missed_requests,
missed_attempts, reconciled by pbxlens.missed_calls):

- table `funnel`, one row per queue, blocks `open` / `closed` (the first missed call within or
  outside the opening hours of the queue's calendar, else the tenant's; none = within): missed
  calls, requests, tried (at least one callback attempt), reached (closed by a successful
  callback), recovered by the caller calling again, never tried (no attempt and not recovered
  by the caller), flushed, still open; first attempts within the target
  (setting callback_target_min) and the mean times to the first attempt and to recovery;
- table `times`, one row per queue: the median and 90th percentile of the time to the first
  attempt and of the time to recovery (reached: the first successful callback's start;
  recovered by the caller: the closing call's start), its totals over every request
  (percentiles do not add up);
- table `operators`, one row per operator (the attempt's extension): attempts, successful
  ones, requests tried, and duplicates: attempts to a number another operator called within
  callback_duplicate_window_min minutes before.
"""

from __future__ import annotations

from datetime import date

from pbxlens.config import get_settings
from pbxlens.reports import calendars
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import Built, Group, Report, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

# The request's queue as a calendar key (by id, or the directory name the request holds).
_QKEY = ("coalesce((SELECT min(q.id) FROM queues q WHERE q.tenant = r.tenant "
         "AND q.name = r.queue), r.queue)")
_CLOCK = calendars.Clock("r", instant="r.first_call", qkey=_QKEY)

# One row per request of the range: its block (hours), outcome flags and times (seconds).
# Args: [hours-clause args], first day, last day, [filter args].
_REQ = """
WITH r AS (
  SELECT r.*, CASE WHEN {inside} THEN 'open' ELSE 'closed' END AS block
  FROM missed_requests r
  WHERE r.day >= CAST(? AS DATE) AND r.day <= CAST(? AS DATE) {where}),
a AS (
  SELECT a.tenant, a.request_key, count(*) AS attempts, min(a.start_ts) AS first_try
  FROM missed_attempts a SEMI JOIN r ON r.tenant = a.tenant AND r.request_key = a.request_key
  GROUP BY ALL)
SELECT r.tenant, r.request_key, coalesce(r.queue, '') AS queue, r.block, r.num_calls,
  a.attempts IS NOT NULL AS tried, r.closure = 'handled_with_callback' AS reached,
  r.closure = 'served_inbound' AS recovered, r.closure = 'forced_closure' AS flushed,
  r.state = 'open' AS still_open,
  CAST(epoch(a.first_try) - epoch(r.first_call) AS BIGINT) AS try_s,
  CASE WHEN r.closure = 'handled_with_callback' THEN r.recall_s
       WHEN r.closure = 'served_inbound'
       THEN CAST(epoch(coalesce(cl.start_ts, r.closed_at)) - epoch(r.first_call) AS BIGINT)
       END AS recovery_s
FROM r LEFT JOIN a ON a.tenant = r.tenant AND a.request_key = r.request_key
LEFT JOIN (SELECT tenant, unique_id, min(start_ts) AS start_ts FROM missed_contacts
           WHERE kind = 'inbound' GROUP BY ALL) cl
  -- equalities only (one row per key): a condition on r alone in ON made it a nested loop,
  -- 1 s for 13k requests; the CASE above reads cl for served_inbound closures only
  ON cl.tenant = r.tenant AND cl.unique_id = r.closed_by"""

_FUNNEL = """
SELECT queue, block, count(*) AS n, sum(num_calls) AS missed,
  count(*) FILTER (WHERE tried) AS tried, count(*) FILTER (WHERE reached) AS reached,
  count(*) FILTER (WHERE recovered) AS recovered,
  count(*) FILTER (WHERE NOT tried AND NOT coalesce(recovered, false)) AS never,
  count(*) FILTER (WHERE flushed) AS flushed, count(*) FILTER (WHERE still_open) AS still_open,
  count(*) FILTER (WHERE try_s <= ?) AS in_target, coalesce(sum(try_s), 0) AS try_s,
  count(*) FILTER (WHERE recovery_s IS NOT NULL) AS rec_n,
  coalesce(sum(recovery_s), 0) AS rec_s
FROM ({req}) f GROUP BY queue, block"""

_TIMES = """
SELECT {key} AS queue, count(*) AS n,
  quantile_disc(try_s, 0.5) AS p50_try, quantile_disc(try_s, 0.9) AS p90_try,
  quantile_disc(recovery_s, 0.5) AS p50_rec, quantile_disc(recovery_s, 0.9) AS p90_rec
FROM ({req}) f GROUP BY 1"""

# Attempts of the range's requests by operator; a duplicate is an attempt to a number that
# another operator called within the window before it. Args: [request args], window seconds.
_OPERATORS = """
WITH req AS ({req}),
a AS (
  SELECT a.*, coalesce(a.extension, '') AS op FROM missed_attempts a
  SEMI JOIN req ON req.tenant = a.tenant AND req.request_key = a.request_key),
d AS (
  SELECT a.*, EXISTS (SELECT 1 FROM missed_attempts b WHERE b.tenant = a.tenant
      AND b.call_num = a.call_num AND coalesce(b.extension, '') <> a.op
      AND b.start_ts < a.start_ts
      AND epoch(a.start_ts) - epoch(b.start_ts) <= ?) AS dup
  FROM a)
SELECT op, count(*) AS attempts, count(*) FILTER (WHERE success) AS success,
  count(DISTINCT request_key) AS requests, count(*) FILTER (WHERE dup) AS dup
FROM d GROUP BY op"""


def request_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """One row per request of the range (the grain of every table)."""
    inside, iargs = calendars.hours_clause(_CLOCK, "open", d_from, d_to)
    w = flt.Where()
    if p.tenant is not None:
        w.add("r.tenant = ?", p.tenant)
    w.any_of(["r.queue"], p.values("queue"))
    calendars.hours_where(w, p, _CLOCK, d_from, d_to)
    return (_REQ.format(inside=inside, where=w.sql()),
            [*iargs, d_from.isoformat(), d_to.isoformat(), *w.args])


def build(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    s = get_settings()
    req, args = request_query(p, d_from, d_to)
    none = cm.tr(p.lang, "(no queue)", "(nessuna coda)")

    def label(q: str) -> str:
        return q or none

    funnel: dict = {}
    for r in cm.records(con, _FUNNEL.format(req=req), [s.callback_target_min * 60, *args]):
        funnel.setdefault(r["queue"], {})[r["block"]] = {
            k: int(v or 0) for k, v in r.items() if k not in ("queue", "block")}
    times: dict = {}
    for key in ("queue", "'*'"):
        for r in cm.records(con, _TIMES.format(req=req, key=key), args):
            f = {k: int(r[k]) for k in ("p50_try", "p90_try", "p50_rec", "p90_rec")
                 if r[k] is not None}  # none: a blank cell, not a zero
            times[r["queue"]] = {"t": {**f, "n": int(r["n"]), "has_try": int("p50_try" in f),
                                       "has_rec": int("p50_rec" in f)}}
    ops: dict = {}
    for r in cm.records(con, _OPERATORS.format(req=req),
                        [*args, s.callback_duplicate_window_min * 60]):
        ops[r["op"]] = {"o": {"n": int(r["attempts"]), **{
            k: int(r[k]) for k in ("attempts", "success", "requests", "dup")}}}
    queues = sorted(funnel, key=lambda q: (q == "", q))
    return [
        RawTable("funnel", cm.tr(p.lang, "Recovery funnel", "Funnel di recupero"),
                 [RowSpec(q, label(q)) for q in queues], funnel,
                 row_header=cm.tr(p.lang, "Queue", "Coda")),
        RawTable("times", cm.tr(p.lang, "Times (percentiles)", "Tempi (percentili)"),
                 [RowSpec(q, label(q)) for q in queues], times,
                 row_header=cm.tr(p.lang, "Queue", "Coda"), totals_key="*" if times else None),
        RawTable("operators", cm.tr(p.lang, "Callbacks by operator", "Richiamate per operatore"),
                 [RowSpec(o, o or none) for o in sorted(ops)], ops,
                 row_header=cm.tr(p.lang, "Operator", "Operatore")),
    ], []


def _b(block: str):
    return lambda b: b == block


def _hours(b: str) -> bool:
    return b in ("open", "closed")


_T = "duration"
register_report(Report(
    id="missed.effectiveness", en="Callback effectiveness", it="Efficacia delle richiamate",
    source="callback request (missed_requests, missed_attempts)", build=build,
    tables_doc="`funnel` and `times`: one row per queue of the requests whose first missed "
               "call is in the range; `operators`: one row per operator who called back",
    filters=(flt.QUEUE, calendars.HOURS),
    layout=(
        Group("funnel", "Funnel", "Funnel", (
            M("missed", "missed calls", "chiamate perse", field="missed"),
            M("n", "requests", "richieste"),
            M("tried", "tried", "tentate", field="tried"),
            M("reached", "reached", "raggiunti", field="reached",
              doc="closed by a successful callback"),
            M("recovered", "called again", "hanno richiamato", field="recovered",
              doc="recovered by the caller calling again (answered inbound)"),
            M("never", "never tried", "mai tentate", field="never",
              doc="no callback attempt and not recovered by the caller"),
            M("flushed", "flushed", "svuotate", field="flushed"),
            M("still_open", "still open", "ancora aperte", field="still_open")),
            blocks=_hours, optional=True),
        Group("ooh", "Out of hours", "Fuori orario", (
            M("n", "requests", "richieste", blocks=_b("closed")),
            M("reached", "reached", "raggiunti", field="reached", blocks=_b("closed")),
            M("never", "never tried", "mai tentate", field="never", blocks=_b("closed"))),
            blocks=_hours, optional=True),
        Group("speed", "Speed", "Rapidità", (
            M("in_target", "first try within target", "primo tentativo entro obiettivo",
              "percent", "pct", "in_target", ("tried",),
              doc="first attempts within callback_target_min of the first missed call, % of "
                  "the tried requests"),
            M("try", "mean time to first try", "tempo medio al primo tentativo", _T, "avg",
              "try_s", ("tried",)),
            M("rec", "mean time to recovery", "tempo medio al recupero", _T, "avg", "rec_s",
              ("rec_n",))), blocks=_hours, optional=True),
        Group("p", "Percentiles", "Percentili", (
            M("p50_try", "median first try", "mediana primo tentativo", _T, "avg", "p50_try",
              ("has_try",)),
            M("p90_try", "90% first try", "90% primo tentativo", _T, "avg", "p90_try",
              ("has_try",)),
            M("p50_rec", "median recovery", "mediana recupero", _T, "avg", "p50_rec",
              ("has_rec",)),
            M("p90_rec", "90% recovery", "90% recupero", _T, "avg", "p90_rec", ("has_rec",))),
            blocks=_b("t"), optional=True),
        Group("op", "Callbacks", "Richiamate", (
            M("attempts", "attempts", "tentativi", field="attempts"),
            M("success", "successful", "riuscite", field="success"),
            M("requests", "requests", "richieste", field="requests"),
            M("dup", "duplicates", "duplicati", field="dup",
              doc="attempts to a number another operator called within "
                  "callback_duplicate_window_min before")), blocks=_b("o"), optional=True),
    ),
    table_title=("Callback effectiveness", "Efficacia delle richiamate"), charts_doc="none.",
    engines=("duckdb",),
    definitions=(
        ("request", "A callback request (missed-call record) whose first missed call is in the "
                    "range, with the outcome it has now."),
        ("out of hours", "The first missed call came outside the opening hours of the queue's "
                         "calendar (else the tenant's); no calendar = within hours."),
        ("target", "Setting callback_target_min (15): the first attempt within that many "
                   "minutes of the first missed call."),
    ),
    totals_label=("Total", "Totale")))
