"""The missed-calls family (nexus_modules.md A.7, A.8): `missed.dashboard`, `missed.today`,
`missed.caller_queue`, `missed.history` (with the recall time, NethVoice anchors §1.3).

All four read the reconciled tables (`missed_requests`, `missed_attempts`, `missed_events`)
and `queue_visits`; each SQL query sums per row (a day, or the single "total" row) into one
block, and the catalog's metrics do the rest (counts, % of the total, averages).

Deviations from the Nexus layout, same numbers (docs/decisions.md "Missed calls"):
- A.7 tables 2 and 3 and A.8.2 have one column per day in Nexus; here one ROW per day (the
  catalog's tables have fixed columns; the exports stay typed);
- "the state at instant T": table 1 at now, table 2 and `missed.today` at the end of each day
  (or now for today), table 3 at the end of each day (A.7 "clone semantics").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbxlens.config import get_settings
from pbxlens.reports import calendars
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import Built, FilterDef, Group, Report, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

TYPE = FilterDef("type", "Type", "Tipo", doc="Missed-call type: queue, call, checktime.")
NUMBER = FilterDef("number", "Number", "Numero",
                   doc="Caller number contains the text (any written form: +39, 0039, spaces).")

CATS = ("served_inbound", "handled_with_callback", "forced_closure", "unanswered_callbacks",
        "not_managed")
CAT_LABELS = {
    "served_inbound": ("served inbound", "servite in ingresso"),
    "handled_with_callback": ("handled with callback", "gestite con richiamata"),
    "forced_closure": ("forced closure", "chiusura forzata"),
    "unanswered_callbacks": ("unanswered callbacks", "richiamate senza risposta"),
    "not_managed": ("not managed", "non gestite"),
}
COLORS = {"served_inbound": cm.GREEN, "handled_with_callback": "#1565c0",
          "forced_closure": "#6d4c41", "unanswered_callbacks": cm.ORANGE, "not_managed": cm.RED}


def _now(p: flt.Params) -> datetime:
    """Report instant: now, or the end of `Params.today` (tests, snapshots)."""
    tz = ZoneInfo(get_settings().timezone)
    if p.today is not None:
        return datetime.combine(p.today + timedelta(days=1), time(0), tz)
    return datetime.now(UTC)


def _req_where(p: flt.Params, alias: str = "r") -> flt.Where:
    w = flt.Where()
    if p.tenant is not None:
        w.add(f"{alias}.tenant = ?", p.tenant)
    w.any_of([f"{alias}.type"], p.values("type"))
    w.any_of([f"{alias}.queue"], p.values("queue"))
    if p.values("number"):
        from pbxlens.missed_calls.numbers import national

        w.contains(f"{alias}.call_num", [national(v) or v for v in p.values("number")])
    return w


# The category of a request at instant T (A.7 "clone semantics"): closed by T -> its closure;
# else an unsuccessful attempt started by T -> unanswered_callbacks; else not_managed.
_CAT = """CASE WHEN r.closed_at IS NOT NULL AND r.closed_at < {t} THEN r.closure
     WHEN f.first_fail IS NOT NULL AND f.first_fail < {t} THEN 'unanswered_callbacks'
     ELSE 'not_managed' END"""
_FAIL = """LEFT JOIN (SELECT tenant, request_key, min(start_ts) AS first_fail FROM missed_attempts
           WHERE NOT success GROUP BY tenant, request_key) f
  ON f.tenant = r.tenant AND f.request_key = r.request_key"""
_EOD = "CAST(CAST({d} AS TIMESTAMP) + INTERVAL 1 DAY AS TIMESTAMPTZ)"

DASH_SQL = f"""
WITH r AS (
  SELECT r.*, {_EOD.format(d='r.day')} AS eod, CASE WHEN {{closed}} THEN 1 ELSE 0 END AS ooh
  FROM missed_requests r
  WHERE r.day >= CAST(? AS DATE) AND r.day <= CAST(? AS DATE) {{where}}
)
SELECT 'day' AS kind, r.day, {_CAT.format(t='least(r.eod, CAST(? AS TIMESTAMPTZ))')} AS cat, count(*) AS n,
  sum(r.ooh) AS ooh
FROM r {_FAIL} GROUP BY ALL
UNION ALL
SELECT 'now', NULL, {_CAT.format(t='CAST(? AS TIMESTAMPTZ)')}, count(*), sum(r.ooh) FROM r {_FAIL}
GROUP BY ALL
"""  # noqa: S608 -- names and SQL fragments from code; values bound

# Out of hours (counted apart): the request's first missed call came outside the opening
# hours of its queue's calendar (the request names its queue; by id or directory name), else
# the tenant's; no calendar = within hours.
_REQ_QKEY = ("coalesce((SELECT min(q.id) FROM queues q WHERE q.tenant = r.tenant "
             "AND q.name = r.queue), r.queue)")
_REQ_CLOCK = calendars.Clock("r", instant="r.first_call", qkey=_REQ_QKEY)

BACKLOG_SQL = f"""
WITH acted AS (
  SELECT tenant, request_key, CAST(closed_at AS DATE) AS d FROM missed_requests
  WHERE closed_at IS NOT NULL
  UNION
  SELECT tenant, request_key, CAST(start_ts AS DATE) FROM missed_attempts WHERE NOT success
), r AS (
  SELECT r.*, a.d, {_EOD.format(d='a.d')} AS eod FROM acted a
  JOIN missed_requests r ON r.tenant = a.tenant AND r.request_key = a.request_key
  WHERE a.d >= CAST(? AS DATE) AND a.d <= CAST(? AS DATE) AND r.day < a.d {{where}}
)
SELECT r.d AS day, {_CAT.format(t='r.eod')} AS cat, count(*) AS n FROM r {_FAIL} GROUP BY ALL
"""  # noqa: S608 -- names and SQL fragments from code; values bound


def _cat_facts(rows, key) -> dict:
    facts: dict[str, dict] = {}
    for r in rows:
        k = key(r)
        blk = facts.setdefault(k, {}).setdefault("req", {"n": 0, **{c: 0 for c in CATS}})
        blk["n"] += r["n"]
        blk[r["cat"]] += r["n"]
        if r.get("ooh"):  # a block of its own, only when there are out-of-hours requests
            ooh = facts[k].setdefault("ooh", {"n": 0, "all": 0})
            ooh["n"] += int(r["ooh"])
    for fs in facts.values():
        if "ooh" in fs:
            fs["ooh"]["all"] = fs["req"]["n"]
    return facts


def build_dashboard(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    it = p.lang == "it"
    now = _now(p)
    w = _req_where(p)
    calendars.hours_where(w, p, _REQ_CLOCK, d_from, d_to)
    closed, closed_args = calendars.hours_clause(_REQ_CLOCK, "closed", d_from, d_to)
    cols, rows = cm.fetch(con, DASH_SQL.format(where=w.sql(), closed=closed),
                          [*closed_args, d_from.isoformat(), d_to.isoformat(), *w.args,
                           *[now] * 4])
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    total = _cat_facts([r for r in recs if r["kind"] == "now"], lambda r: "total")
    daily = _cat_facts([r for r in recs if r["kind"] == "day"], lambda r: r["day"].isoformat())
    cols, rows = cm.fetch(con, BACKLOG_SQL.format(where=w.sql()),
                          [d_from.isoformat(), d_to.isoformat(), *w.args])
    backlog = {k: {"backlog": v["req"]} for k, v in _cat_facts(
        [dict(zip(cols, r, strict=True)) for r in rows], lambda r: r["day"].isoformat()).items()}
    days = cm.days_between(d_from, d_to)
    day_rows = [RowSpec(d.isoformat(), fmt.day_label(d)) for d in days]
    raws = [
        RawTable("total", "Gestione richieste: totale" if it else "Requests: total",
                 [RowSpec("total", "Totale" if it else "Total")], total),
        RawTable("daily", "Richieste per giorno" if it else "Requests by day", day_rows, daily,
                 row_header="Data" if it else "Date"),
        RawTable("backlog", "Richieste su backlog" if it else "Backlog requests", day_rows,
                 backlog, row_header="Data" if it else "Date"),
    ]
    x = [fmt.day_label(d) for d in days]
    series = [{"key": c, "label": CAT_LABELS[c][1 if it else 0], "color": COLORS[c], "kind": "line",
               "data": [int(daily.get(d.isoformat(), {}).get("req", {}).get(c, 0)) for d in days]}
              for c in CATS]
    charts = [{"id": "daily_trend", "title": "Andamento giornaliero" if it else "Daily trend",
               "type": "combo", "x": x, "series": series}]
    return raws, charts


def _is_req(b: str) -> bool:
    return b == "req"


def _cat_group(c: str, with_pct: bool = True, optional: bool = False) -> Group:
    en, it = CAT_LABELS[c]
    ms = [M("n", "n.", "n.", field=c)]
    if with_pct:
        ms.append(M("pct", "%", "%", "percent", "pct", c, ("n",), blocks=_is_req))
    return Group(c, en, it, tuple(ms), optional=optional,
                 blocks=_is_req if optional else (lambda b: True))


DASH_LAYOUT = (
    Group("total", "total", "totali", (M("total", "n.", "n."),), blocks=_is_req, optional=True),
    *(_cat_group(c) for c in CATS[:4]),
    _cat_group("not_managed", optional=True),
    Group("out_of_hours", "out of hours", "fuori orario", (
        M("n", "n.", "n.", doc="requests whose first missed call came outside the opening "
                                "hours (counted apart; they are also in their category)"),
        M("pct", "%", "%", "percent", "pct", "n", ("all",))),
        blocks=lambda b: b == "ooh", optional=True),
)

register_report(Report(
    id="missed.dashboard", en="Missed calls dashboard", it="Dashboard Missed Call",
    source="callback request", build=build_dashboard,
    tables_doc="three tables: all requests of the range (state now), one row per day of "
               "first call (state at the end of that day), backlog: older requests closed "
               "or called back without answer on that day (state at its end)",
    filters=(TYPE, flt.QUEUE, calendars.HOURS), layout=DASH_LAYOUT,
    engines=("duckdb",),  # the out-of-hours count correlates calendars Spark cannot (decisions)
    charts_doc="`daily_trend`: one line per category over the days of the range.",
    table_title=("Requests", "Richieste"),
    definitions=(
        ("request", "A callback request: the missed calls of one number between two closures "
                    "(nexus_modules.md A.9)."),
        ("categories", "served inbound (R7), handled with callback (R5), forced closure (R8, "
                       "flush), unanswered callbacks (open with an unsuccessful attempt), not "
                       "managed (open, no attempt); they partition the requests."),
        ("%", "count / requests of the row × 100, 2 decimals half-up."),
        ("out of hours", "Requests whose first missed call came outside the opening hours of "
                         "their queue's calendar (else the tenant's): counted apart, shown when "
                         "there are any; the categories still partition every request. The "
                         "hours filter keeps the requests within or outside the hours."),
    )))


# ------------------------------------------------------------------------------ today
TODAY_SQL = f"""
WITH days AS (
  SELECT CAST(d AS DATE) AS d, least({_EOD.format(d='CAST(d AS DATE)')}, CAST(? AS TIMESTAMPTZ)) AS t
  FROM (SELECT unnest(generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY)) AS d) g
), r AS (
  SELECT r.*, b.booked_by IS NOT NULL AS booked FROM missed_requests r
  LEFT JOIN missed_bookings b ON b.tenant = r.tenant AND b.call_num = r.call_num
    AND r.state = 'open' AND b.booked_at >= r.first_call
  WHERE r.first_call < CAST(? AS TIMESTAMPTZ) {{where}}
), a AS (
  SELECT a.*, CAST(a.start_ts AS DATE) AS d FROM missed_attempts a
  SEMI JOIN r ON r.tenant = a.tenant AND r.request_key = a.request_key
), rs AS (  -- each request as of the end of each day it existed on, with its attempts
  -- (one row per day and request: a request has at most one booking, the bookings' key)
  SELECT days.d, days.t, r.tenant, r.request_key, r.call_num, r.day, r.num_calls, r.booked,
    (r.closed_at IS NULL OR r.closed_at >= days.t) AS open,
    sum(CASE WHEN NOT a.success AND a.start_ts < days.t THEN 1 ELSE 0 END) AS recalled,
    max(CASE WHEN a.d = days.d THEN 1 ELSE 0 END) = 1 AS called_today
  FROM days JOIN r ON r.day <= days.d AND (r.day = days.d OR r.closed_at IS NULL
    OR r.closed_at >= CAST(days.d AS TIMESTAMPTZ))
  LEFT JOIN a ON a.tenant = r.tenant AND a.request_key = r.request_key
  GROUP BY days.d, days.t, r.tenant, r.request_key, r.call_num, r.day, r.num_calls, r.booked,
    r.closed_at
), ev AS (  -- the day's missed calls per number, managed = their request closed by then
  SELECT days.d, e.call_num, count(*) AS n, bool_or(coalesce(NOT rq.open, false)) AS managed
  FROM missed_events e
  JOIN days ON days.d = CAST(e.event_ts AS DATE)
  JOIN r r0 ON r0.tenant = e.tenant AND r0.call_num = e.call_num
    AND e.event_ts >= r0.first_call AND e.event_ts <= r0.last_call
  LEFT JOIN rs rq ON rq.d = days.d AND rq.tenant = r0.tenant AND rq.request_key = r0.request_key
  GROUP BY ALL
), ev_day AS (
  SELECT d, sum(n) AS calls, count(*) AS customers,
    sum(CASE WHEN managed THEN 1 ELSE 0 END) AS managed
  FROM ev GROUP BY d
), a_day AS (
  SELECT d, sum(bill_s) AS bill_sum, count(*) AS bill_n FROM a WHERE bill_s > 0 GROUP BY d
), rs_day AS (  -- today: the requests of the row's day; backlog (bl_): older ones
  SELECT d,
    sum(CASE WHEN day = d THEN 1 ELSE 0 END) AS inquiries,
    sum(CASE WHEN called_today THEN 1 ELSE 0 END) AS called_back,
    sum(CASE WHEN called_today THEN recalled ELSE 0 END) AS recalled_sum,
    sum(CASE WHEN called_today THEN 100 ELSE 0 END) AS recalled_den,
    sum(CASE WHEN day = d AND open THEN 1 ELSE 0 END) AS to_manage,
    sum(CASE WHEN day = d AND open AND NOT booked THEN 1 ELSE 0 END) AS unbooked,
    count(DISTINCT CASE WHEN day = d AND open AND recalled = 0 THEN call_num END)
      AS not_contacted,
    sum(CASE WHEN day < d AND open THEN num_calls ELSE 0 END) AS bl_calls,
    sum(CASE WHEN day < d AND open THEN 1 ELSE 0 END) AS bl_requests,
    count(DISTINCT CASE WHEN day < d AND open THEN call_num END) AS bl_customers,
    sum(CASE WHEN day < d AND called_today THEN 1 ELSE 0 END) AS bl_called,
    sum(CASE WHEN day < d AND open AND NOT booked THEN 1 ELSE 0 END) AS bl_unbooked
  FROM rs GROUP BY d
)  -- one aggregate per source, joined by day (not 17 correlated look-ups per day)
SELECT days.d AS day,
  coalesce(ev_day.calls, 0) AS calls, coalesce(ev_day.customers, 0) AS customers,
  coalesce(ev_day.managed, 0) AS managed, coalesce(rs_day.inquiries, 0) AS inquiries,
  coalesce(rs_day.called_back, 0) AS called_back, coalesce(a_day.bill_sum, 0) AS bill_sum,
  coalesce(a_day.bill_n, 0) AS bill_n, coalesce(rs_day.recalled_sum, 0) AS recalled_sum,
  coalesce(rs_day.recalled_den, 0) AS recalled_den, coalesce(rs_day.to_manage, 0) AS to_manage,
  coalesce(rs_day.unbooked, 0) AS unbooked, coalesce(rs_day.not_contacted, 0) AS not_contacted,
  coalesce(rs_day.bl_calls, 0) AS bl_calls, coalesce(rs_day.bl_requests, 0) AS bl_requests,
  coalesce(rs_day.bl_customers, 0) AS bl_customers, coalesce(rs_day.bl_called, 0) AS bl_called,
  coalesce(rs_day.bl_unbooked, 0) AS bl_unbooked
FROM days LEFT JOIN ev_day ON ev_day.d = days.d LEFT JOIN a_day ON a_day.d = days.d
  LEFT JOIN rs_day ON rs_day.d = days.d
ORDER BY days.d
"""  # noqa: S608 -- names and SQL fragments from code; values bound
TODAY_FIELDS = ("calls", "customers", "managed", "inquiries", "called_back", "bill_sum", "bill_n",
                "recalled_sum", "recalled_den", "to_manage", "unbooked", "not_contacted",
                "bl_calls", "bl_requests", "bl_customers", "bl_called", "bl_unbooked")


def build_today(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    it = p.lang == "it"
    now = _now(p)
    w = _req_where(p)
    cols, rows = cm.fetch(con, TODAY_SQL.format(where=w.sql()),
                          [now, d_from.isoformat(), d_to.isoformat(), now, *w.args])
    facts = {}
    for row in rows:
        r = dict(zip(cols, row, strict=True))
        blk = {f: float(r[f] or 0) for f in TODAY_FIELDS}
        blk["n"] = blk["inquiries"]
        blk["unmanaged"] = blk["customers"] - blk["managed"]
        facts[r["day"].isoformat()] = {"req": blk}
    rows_ = [RowSpec(d.isoformat(), fmt.day_label(d)) for d in cm.days_between(d_from, d_to)]
    return [RawTable("today", "Report di oggi" if it else "Today's report", rows_, facts,
                     row_header="Data" if it else "Date")], []


def _k(key, en, it, field, **kw):
    return M(key, en, it, field=field, thousands=False, **kw)


TODAY_LAYOUT = (
    Group("today", "Today's report", "Report di oggi", (
        _k("calls", "Total phone calls", "Telefonate totali", "calls"),
        _k("customers", "Total customers", "Clienti totali", "customers"),
        _k("managed", "Managed customers", "Clienti gestiti", "managed"),
        _k("unmanaged", "Unmanaged customers", "Clienti non gestiti", "unmanaged"),
        _k("inquiries", "Total inquiries", "Richieste totali", "inquiries"),
        _k("called_back", "Inquiries called back + backlog", "Richieste richiamate + backlog",
           "called_back"),
        _k("avg_bill", "Average bill secs", "Media bill secs", "bill_sum", kind="avg",
           den=("bill_n",), doc="mean bill_secs of the day's answered callback calls (floored)"),
        # a 2-decimal mean through the pct metric: recalled_den holds 100 x the count
        M("avg_recalled", "Average recalled", "Media richiamate", "decimal", "pct",
          "recalled_sum", ("recalled_den",)),
        _k("to_manage", "Requests to be managed", "Richieste da gestire", "to_manage"),
        M("pct_to_manage", "% of requests to be handled", "% richieste da gestire", "percent",
          "pct", "to_manage", ("inquiries",)),
        _k("unbooked", "Unbooked requests to be handled", "Richieste non prenotate da gestire",
           "unbooked"),
        M("pct_unbooked", "% unbooked requests to be handled",
          "% richieste non prenotate da gestire", "percent", "pct", "unbooked", ("to_manage",)),
        _k("not_contacted", "Customers not contacted", "Clienti non contattati", "not_contacted"),
    )),
    Group("backlog", "Backlog to manage", "Backlog da gestire", (
        _k("bl_calls", "Phone calls to manage", "Telefonate da gestire", "bl_calls"),
        _k("bl_requests", "Requests to be managed", "Richieste da gestire", "bl_requests"),
        _k("bl_customers", "Customers to manage", "Clienti da gestire", "bl_customers"),
        _k("bl_called", "Inquiries called today", "Richieste richiamate oggi", "bl_called"),
        _k("bl_unbooked", "Unbooked requests to be managed", "Richieste non prenotate da gestire",
           "bl_unbooked"),
        M("bl_pct_unbooked", "% unbooked inquiries to be handled",
          "% richieste non prenotate da gestire", "percent", "pct", "bl_unbooked",
          ("bl_requests",)),
    )),
)

register_report(Report(
    id="missed.today", en="Missed calls: today's report", it="Report Missed Call di oggi",
    source="callback request", build=build_today,
    tables_doc="one row per day (the day as \"today\", state at its end or now): the 13 "
               "Today's-report KPIs and the 6 backlog KPIs of nexus_modules.md A.8.1",
    filters=(TYPE, flt.QUEUE), layout=TODAY_LAYOUT, table_title=("KPIs", "KPI"),
    definitions=(("today", "Requests whose first call is on the row's day; backlog = older "
                           "requests still open at the end of the day."),
                 ("customers", "Distinct normalized caller numbers."),)))


# ----------------------------------------------------------------------- caller queue
CQ_SQL = """
WITH v AS (
  SELECT v.tenant, v.unique_id, v.day, v.answered,
    coalesce(q.name, nullif(v.queue_name, ''), v.queue_id, '') AS queue, c.caller
  FROM queue_visits v
  JOIN calls c ON c.tenant = v.tenant AND c.unique_id = v.unique_id AND c.leg_branch = v.leg_branch
  LEFT JOIN queues q ON q.tenant = v.tenant AND q.id = v.queue_id
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) AND NOT v.empty_queue
    AND c.direction = 'incoming' {where}
    -- the same days on calls (a visit's day is its call's local start day): the calls table
    -- is then read in the range's row groups, not whole (10M calls, a month: 0.76 -> 0.22 s)
    AND c.start_local >= CAST(? AS DATE) AND c.start_local < CAST(? AS DATE) + INTERVAL 1 DAY
), n AS (
  SELECT v.*, {num} AS num FROM v
), o AS (  -- outcome of each unanswered call: the request holding its missed-call event
  SELECT n.tenant, n.unique_id,
    max(CASE WHEN r.closure = 'handled_with_callback' THEN 2 WHEN r.num_recalled > 0 THEN 1
             ELSE 0 END) AS outcome
  FROM n
  JOIN missed_events e ON e.tenant = n.tenant AND e.unique_id = n.unique_id
  JOIN missed_requests r ON r.tenant = e.tenant AND r.call_num = e.call_num
    AND e.event_ts >= r.first_call AND e.event_ts <= r.last_call
  WHERE NOT n.answered
  GROUP BY ALL
), per AS (
  SELECT n.queue, n.day, n.num, count(*) FILTER (WHERE n.answered) AS ans,
    count(*) FILTER (WHERE NOT n.answered) AS unans,
    max(coalesce(o.outcome, 0)) FILTER (WHERE NOT n.answered) AS outcome
  FROM n LEFT JOIN o ON o.tenant = n.tenant AND o.unique_id = n.unique_id
  GROUP BY ALL
)
SELECT queue, day, sum(ans) AS tel_ans, sum(unans) AS tel_unans, count(*) AS numbers,
  count(*) FILTER (WHERE ans > 0) AS num_ans, count(*) FILTER (WHERE unans > 0) AS num_unans,
  count(*) FILTER (WHERE unans > 0 AND outcome = 2) AS ok,
  count(*) FILTER (WHERE unans > 0 AND outcome = 1) AS ko,
  count(*) FILTER (WHERE unans > 0 AND outcome = 0) AS never
FROM per GROUP BY ALL ORDER BY queue, day
"""
CQ_FIELDS = ("tel_ans", "tel_unans", "numbers", "num_ans", "num_unans", "ok", "ko", "never")


def build_caller_queue(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    from pbxlens.missed_calls.numbers import national_sql

    it = p.lang == "it"
    w = flt.Where()
    if p.tenant is not None:
        w.add("v.tenant = ?", p.tenant)
    qs = p.values("queue")
    if qs:
        w.add("(" + " OR ".join(["v.queue_id IN ({0})", "v.queue_name IN ({0})", "q.name IN ({0})"])
              .format(", ".join("?" for _ in qs)) + ")", *qs, *qs, *qs)
    cols, rows = cm.fetch(con, CQ_SQL.format(where=w.sql(), num=national_sql("caller", False)),
                          [d_from.isoformat(), d_to.isoformat(), *w.args,
                           d_from.isoformat(), d_to.isoformat()])
    by_queue: dict[str, dict] = {}
    for row in rows:
        r = dict(zip(cols, row, strict=True))
        blk = {f: int(r[f] or 0) for f in CQ_FIELDS}
        blk["n"] = blk["numbers"]
        by_queue.setdefault(r["queue"], {})[r["day"].isoformat()] = {"q": blk}
    days = cm.days_between(d_from, d_to)
    raws, charts = [], []
    for qname in sorted(by_queue):
        facts = by_queue[qname]
        raws.append(RawTable(f"queue:{qname}", qname or "(—)",
                             [RowSpec(d.isoformat(), fmt.day_label(d)) for d in days], facts,
                             row_header="Data" if it else "Date"))
        tot_a = sum(f["q"]["tel_ans"] for f in facts.values())
        tot_u = sum(f["q"]["tel_unans"] for f in facts.values())
        charts.append({"id": f"pie:{qname}", "title": qname, "type": "pie",
                       "x": ["risposte" if it else "answered", "non risposte" if it else "unanswered"],
                       "series": [{"key": "n", "label": "calls", "colors": [cm.GREEN, cm.RED],
                                   "data": [tot_a, tot_u]}]})
        charts.append({"id": f"daily:{qname}", "title": qname, "type": "combo",
                       "x": [fmt.day_label(d) for d in days], "series": [
                           {"key": k, "label": lbl, "color": col, "kind": "column",
                            "data": [facts.get(d.isoformat(), {}).get("q", {}).get(k, 0)
                                     for d in days]}
                           for k, lbl, col in (("tel_ans", "answered", cm.GREEN),
                                               ("tel_unans", "unanswered", cm.RED))]})
    return raws, charts


CQ_LAYOUT = (Group("calls", "calls", "telefonate", (
    _k("tel_ans", "answered calls", "tel risposte", "tel_ans"),
    _k("tel_unans", "unanswered calls", "tel non risposte", "tel_unans"))),
    Group("numbers", "numbers", "numeri", (
        _k("numbers", "total numbers", "numeri totali", "numbers"),
        _k("num_ans", "answered numbers", "numeri risposti", "num_ans"),
        _k("num_unans", "unanswered numbers", "numeri non risposti", "num_unans"))),
    Group("recall", "of the unanswered numbers", "dei numeri non risposti", (
        _k("ok", "called back successfully", "richiamati con successo", "ok"),
        _k("ko", "called back unsuccessfully", "richiamati senza successo", "ko"),
        _k("never", "not called back", "non richiamati", "never"))),
)

register_report(Report(
    id="missed.caller_queue", en="Missed calls per caller and queue", it="Report Caller Queue",
    source="CDR queue visit + callback request", build=build_caller_queue,
    tables_doc="one table per queue, one row per day; numbers are normalized callers",
    filters=(flt.QUEUE,), layout=CQ_LAYOUT, table_title=("Queue", "Coda"),
    charts_doc="per queue: `pie:<queue>` answered vs unanswered calls, `daily:<queue>` the "
               "daily histogram.",
    definitions=(("numeri non risposti", "callers with at least one unanswered call in the "
                                         "queue that day = con successo + senza successo + "
                                         "non richiamati (A.8.2)."),)))


# ---------------------------------------------------------------------------- history
HIST_SQL = """
WITH e AS (
  SELECT e.tenant, e.call_num, e.event_ts, CAST(e.event_ts AS DATE) AS d FROM missed_events e
  WHERE CAST(e.event_ts AS DATE) >= CAST(? AS DATE) AND CAST(e.event_ts AS DATE) <= CAST(? AS DATE)
    {where}
), er AS (
  SELECT e.d, e.call_num, r.state, r.request_key
  FROM e JOIN missed_requests r ON r.tenant = e.tenant AND r.call_num = e.call_num
    AND e.event_ts >= r.first_call AND e.event_ts <= r.last_call
), c AS (
  SELECT d, call_num, bool_and(state = 'closed') AS closed, count(*) AS n FROM er GROUP BY ALL
), rc AS (
  SELECT r.day AS d, count(r.recall_s) AS recalls, sum(r.recall_s) AS recall_sum,
    min(r.recall_s) AS min_recall, max(r.recall_s) AS max_recall
  FROM missed_requests r
  WHERE r.day >= CAST(? AS DATE) AND r.day <= CAST(? AS DATE) {rwhere}
  GROUP BY ALL
)
SELECT coalesce(x.d, rc.d) AS day, coalesce(x.customers, 0) AS customers,
  coalesce(x.called, 0) AS called, coalesce(x.calls, 0) AS calls,
  coalesce(rc.recalls, 0) AS recalls, coalesce(rc.recall_sum, 0) AS recall_sum,
  rc.min_recall, rc.max_recall
FROM (SELECT d, count(*) AS customers, count(*) FILTER (WHERE closed) AS called, sum(n) AS calls
      FROM c GROUP BY d) x
FULL JOIN rc ON rc.d = x.d
"""


def build_history(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    it = p.lang == "it"
    w, rw = _req_where(p, "e"), _req_where(p, "r")
    lo, hi = d_from.isoformat(), d_to.isoformat()
    cols, rows = cm.fetch(con, HIST_SQL.format(where=w.sql(), rwhere=rw.sql()),
                          [lo, hi, *w.args, lo, hi, *rw.args])
    facts = {}
    for row in rows:
        r = dict(zip(cols, row, strict=True))
        blk = {"n": r["customers"], "called": r["called"], "open": r["customers"] - r["called"],
               "calls": r["calls"], "recalls": r["recalls"], "recall_sum": r["recall_sum"]}
        if r["min_recall"] is not None:
            blk["min_recall"], blk["max_recall"] = r["min_recall"], r["max_recall"]
        facts[r["day"].isoformat()] = {"h": blk}
    days = cm.days_between(d_from, d_to)
    x = [fmt.day_label(d) for d in days]

    def ser(f):
        return [int(facts.get(d.isoformat(), {}).get("h", {}).get(f, 0)) for d in days]

    charts = [
        {"id": "customers", "title": "Clienti" if it else "Customers", "type": "combo", "x": x,
         "series": [{"key": "called", "label": "richiamati" if it else "called back",
                     "color": cm.GREEN, "kind": "column", "data": ser("called")},
                    {"key": "open", "label": "non ancora richiamati" if it else "not yet called back",
                     "color": cm.RED, "kind": "column", "data": ser("open")}]},
        {"id": "calls", "title": "Chiamate" if it else "Calls", "type": "combo", "x": x,
         "series": [{"key": "calls", "label": "chiamate" if it else "calls", "color": cm.ORANGE,
                     "kind": "column", "data": ser("calls")}]},
    ]
    return [RawTable("history", "Storico" if it else "History",
                     [RowSpec(d.isoformat(), fmt.day_label(d)) for d in days], facts,
                     row_header="Data" if it else "Date")], charts


register_report(Report(
    id="missed.history", en="Missed calls history", it="Report Missed Call",
    source="missed call event + callback request", build=build_history,
    tables_doc="one row per day of the missed calls",
    filters=(NUMBER,),
    layout=(
        Group("customers", "customers", "clienti", (
            _k("n", "total", "totali", "n"),
            _k("called", "called back (closed)", "richiamati", "called"),
            _k("open", "not yet called back", "non ancora richiamati", "open"))),
        Group("calls", "calls", "chiamate", (_k("calls", "calls", "chiamate", "calls"),)),
        Group("recall", "recall time", "tempo di richiamata", (
            _k("recalls", "recalled requests", "richieste richiamate", "recalls"),
            M("min", "min", "min", "duration", field="min_recall"),
            M("avg", "avg", "media", "duration", "avg", "recall_sum", ("recalls",)),
            M("max", "max", "max", "duration", field="max_recall"))),
    ),
    charts_doc="`customers`: called back (green) and not yet called back (red) per day; "
               "`calls`: missed calls imported per day.",
    definitions=(
        ("customers", "Distinct numbers whose missed calls were imported that day; called "
                      "back = their request is closed (any outcome)."),
        ("recall time", "First successful callback start − first missed call of the request "
                        "(NethVoice, anchors §1.3), by the request's first-call day; min / "
                        "floored average / max."),
    )))
