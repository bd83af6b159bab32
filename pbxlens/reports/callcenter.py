"""The Call Center sub-module (nexus_reports.md §2, R28-R34) over the Call Center CDR:
`queue_calls` (one row per call and queue visit) and `cc_agent_legs` (one row per presentation
of a queue call to an operator account), both loaded by pbxlens.ingest.kalliope_callcenter.

Differences from the CDR sub-module (§2): rows are placed by their **end** time (the queue
call's exit, C22: the PBX's Call Center CDR filters on it, L2585); a Direction filter
(incoming / local, C26); the CANCELED NOWAIT block (L5696); the welcome-message waits (C7).
Blocks, metrics and layouts are the CDR families' (queue.py, operator.py), so the two
sub-modules read alike.
"""

from __future__ import annotations

from datetime import date

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.ingest.callcenter_fields import DIRECTIONS
from pbxlens.reports import calendars, drilldown, scaffold
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports import operator as op_family
from pbxlens.reports import queue as q_family
from pbxlens.reports.catalog import (
    BlockGroups,
    Built,
    FilterDef,
    Group,
    Report,
    SummaryField,
    register_report,
)
from pbxlens.reports.common import Grouping, M
from pbxlens.reports.engine import RawTable, RowSpec

DIRECTION = FilterDef(
    "direction", "Direction", "Direzione",
    options=flt.FixedOptions((("incoming", "Incoming", "Ingresso"), ("local", "Local", "Locale"))),
    doc="Call Center reports: incoming (Ingresso: from an inbound line) or local (Locale: from "
        "an internal extension) (C26).")

_D = "duration"
Q_FIELDS = ("n", "tot", "talk", "dur", "queuing", "resp", "wait", "welcome", "qwait", "hold")
L_FIELDS = op_family.FIELDS
_QLABEL = "coalesce(qq.name, nullif(g.queue_name, ''), g.queue_id, '')"
_LABELS = {**cm.CAUSE_LABELS, "TRASFERIMENTO": ("TRANSFER", "TRASFERIMENTO")}


def _directions(values: list[str]) -> list[str]:
    out = []
    for v in values:
        k = v.strip().lower()
        code = next((c for c, sp in DIRECTIONS.items() if k in sp), None)
        if code is None:
            raise PbxlensError(f"--filter direction: expected incoming or local, got {v!r}")
        out.append(code)
    return out


# The instant a Call Center fact is judged by for opening hours: its queue call's entry.
_CLOCKS = {"v": calendars.Clock("v", instant="v.enter_ts", qkey="v.qkey"),
           "g": calendars.Clock("g", instant="g.q_enter_ts", qkey="g.qkey")}
_FIRST_VISIT = calendars.Clock("c0", instant="c0.first_ts", qkey="c0.first_qkey")


def _common_where(w: flt.Where, p: flt.Params, a: str, d_from: date | None = None,
                  d_to: date | None = None) -> None:
    flt.call_filters(w, p, a)  # tenant, status (C25)
    w.any_of([f"{a}.direction"], _directions(p.values("direction")))
    if d_from is not None and d_to is not None:
        calendars.hours_where(w, p, _CLOCKS[a], d_from, d_to)


def _queue_order(con, labels: dict[str, str], p: flt.Params) -> list[str]:
    cm.add_filtered(con, labels, p.values("queue"), "queues")
    return sorted(labels, key=lambda k: (k == "", (labels[k] or "").lower(), k))


# ============================================================================ queue calls
# R29 / R31 / R33: the queue calls of the range are summed per finest key and queue identity
# first; directory names are joined on those sums, then rolled up into grouping sets.
QUEUE_SQL = f"""
WITH g AS (
  SELECT v.tenant, v.queue_id, v.queue_name, {{fine}}, count(*) AS n, sum(v.tot_s) AS tot,
    sum(v.talk_s) AS talk, sum(v.dur_s) AS dur, sum(v.queuing_s) AS queuing,
    sum(v.resp_s) AS resp, sum(v.wait_s) AS wait, sum(v.welcome_s) AS welcome,
    sum(v.queue_wait_s) AS qwait, sum(v.hold_s) AS hold
  FROM queue_calls v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {{where}}
  GROUP BY v.tenant, v.queue_id, v.queue_name, {{fine}}
), l AS (
  SELECT g.*, {_QLABEL} AS qlabel FROM g
  LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.queue_id
  WHERE 1 = 1 {{label_where}}
)
SELECT {{keys}}, max(qlabel) AS qlabel, block, {{gid}} AS gid, sum(n) AS n, sum(tot) AS tot,
  sum(talk) AS talk, sum(dur) AS dur, sum(queuing) AS queuing, sum(resp) AS resp,
  sum(wait) AS wait, sum(welcome) AS welcome, sum(qwait) AS qwait, sum(hold) AS hold
FROM l GROUP BY GROUPING SETS ({{sets}})
"""  # noqa: S608 -- names and SQL fragments from code; values bound
BY_QUEUE = Grouping(("qkey", "dow", "hr"), "(qkey, block), (dow, block), (hr, block)")
BY_QUEUE_DATE = Grouping(("qkey", "day", "dow"), "(qkey, day, block), (qkey, dow, block)")
BY_QUEUE_HOUR = Grouping(("qkey", "hr"), "(qkey, hr, block)")


def queue_query(g: Grouping, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    w = flt.Where()
    _common_where(w, p, "v", d_from, d_to)
    if not p.flag("empty_queue"):
        w.add("v.qkey <> ''")
    w.any_of(["v.exit_cause", "v.block"], flt.cause_codes(p.values("exit_cause")))
    lw = flt.Where()
    lw.any_of(["g.qkey", _QLABEL], p.values("queue"))
    sql = QUEUE_SQL.format(fine=", ".join(f"v.{k}" for k in (*g.keys, "block")), where=w.sql(),
                           label_where=lw.sql(), keys=g.columns, sets=g.sets, gid=g.gid)
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args]


def _queue_calls(con, g: Grouping, p: flt.Params, d_from: date, d_to: date):
    sets = cm.GroupingSets(g.keys, cm.records(con, *queue_query(g, p, d_from, d_to)))
    labels = {r["qkey"]: r["qlabel"] or "" for r in sets.rows if r["qkey"] is not None}
    return sets, labels, _queue_order(con, labels, p)


def by_queue(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.queues (R29): one row per queue, and the chart trio."""
    sets, labels, order = _queue_calls(con, BY_QUEUE, p, d_from, d_to)
    facts = cm.facts_by(sets.of("qkey"), lambda r: r["qkey"], Q_FIELDS)
    table = RawTable("queues", defn.text(defn.table_title, p.lang),
                     [RowSpec(k, labels[k]) for k in order], facts,
                     row_header=cm.tr(p.lang, "Queue", "Coda"))
    return [table], scaffold.chart_trio(
        p.lang, facts, cm.facts_by(sets.of("dow"), lambda r: r["dow"], Q_FIELDS),
        cm.facts_by(sets.of("hr"), lambda r: r["hr"], Q_FIELDS))


def by_queue_date(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.queues_by_date (R31): per queue, one row per day and its weekday chart."""
    sets, labels, order = _queue_calls(con, BY_QUEUE_DATE, p, d_from, d_to)
    title = defn.text(defn.table_title, p.lang)
    raws = []
    for qk in order:
        days = cm.facts_by((r for r in sets.of("qkey", "day") if r["qkey"] == qk), cm.by_day,
                           Q_FIELDS)
        dows = cm.facts_by((r for r in sets.of("qkey", "dow") if r["qkey"] == qk),
                           lambda r: r["dow"], Q_FIELDS)
        raws.append(scaffold.daily_table(
            qk, scaffold.per_entity_title(title, p.lang, ("queue", "coda"), labels[qk]), days,
            d_from, d_to, p.lang, charts=[scaffold.weekday_chart(p.lang, dows)]))
    return raws, []


def by_queue_hour(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.queues_by_hour (R33): per queue, 24 rows."""
    sets, labels, order = _queue_calls(con, BY_QUEUE_HOUR, p, d_from, d_to)
    title = defn.text(defn.table_title, p.lang)
    return [scaffold.hourly_table(
        qk, scaffold.per_entity_title(title, p.lang, ("queue", "coda"), labels[qk]),
        cm.facts_by((r for r in sets.of("qkey", "hr") if r["qkey"] == qk), cm.by_hour,
                    Q_FIELDS), p.lang) for qk in order], []


# ============================================================================ R30 callers
# C8: each incoming call once across the queues it visited; answered when any visit was
# answered; placed on the (end) day of its first visit.
# The opening-hours filter judges the call by its first visit (its queue's calendar), so that
# within and outside hours split the calls even when their visits' queues follow different
# calendars.
CALLERS_SQL = """
WITH c0 AS (
  SELECT v.tenant, v.unique_id, arg_min(v.day, v.enter_ts) AS day, bool_or(v.answered) AS ans,
    min(v.enter_ts) AS first_ts, arg_min(v.qkey, v.enter_ts) AS first_qkey
    {details}
  FROM queue_calls v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) AND v.direction = 'incoming'
    {where}
  GROUP BY v.tenant, v.unique_id
), c AS (SELECT * FROM c0 WHERE {hours})
SELECT day, CASE WHEN ans THEN 'ANSWER' ELSE 'UNANSWERED' END AS block, count(*) AS n
FROM c GROUP BY ALL
"""


def callers_query(p: flt.Params, d_from: date, d_to: date, *, details: str = ""
                  ) -> tuple[str, list]:
    """R30's query; `details` adds columns to its calls (the drill-down's list)."""
    w = flt.Where()
    _common_where(w, p, "v")  # opening hours: on the call's first visit, below
    hours = flt.Where()
    calendars.hours_where(hours, p, _FIRST_VISIT, d_from, d_to)
    if not p.flag("empty_queue"):
        w.add("v.qkey <> ''")
    if p.values("queue"):
        w.add("(v.qkey IN (SELECT unnest(?)) OR v.queue_name IN (SELECT unnest(?)) OR v.queue_id"
              " IN (SELECT id FROM queues WHERE name IN (SELECT unnest(?))))",
              p.values("queue"), p.values("queue"), p.values("queue"))
    return (CALLERS_SQL.format(where=w.sql(), details=details,
                               hours=" AND ".join(hours.parts) or "true"),
            [d_from.isoformat(), d_to.isoformat(), *w.args, *hours.args])


def callers(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.queue_callers (R30): incoming calls per day, each once across its queues."""
    facts = cm.facts_by(cm.records(con, *callers_query(p, d_from, d_to)), cm.by_day, ("n",))
    days = cm.days_between(d_from, d_to)
    charts = [scaffold.answered_pie(p.lang, cm.all_blocks(facts)),
              scaffold.slot_chart("by_day", cm.tr(p.lang, "By day", "Per giorno"),
                                  [fmt.day_label(d) for d in days], facts,
                                  [d.isoformat() for d in days])]
    return [scaffold.daily_table("callers", cm.tr(p.lang, "Incoming calls",
                                                  "Chiamate in ingresso"),
                                 facts, d_from, d_to, p.lang)], charts


# ============================================================================ R28 dashboard
DASH_SQL = """
WITH g AS (
  SELECT v.day, v.hr, v.dow, v.direction, v.block AS b, count(*) AS n, sum(v.tot_s) AS dur
  FROM queue_calls v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {where}
  GROUP BY v.day, v.hr, v.dow, v.direction, v.block
), c AS (
  SELECT day, hr, dow, direction || '|' || b AS block, n, dur FROM g
)
SELECT day, hr, dow, block, GROUPING(day, hr, dow) AS gid, sum(n) AS n, sum(dur) AS dur
FROM c GROUP BY GROUPING SETS ((day, block), (hr, block), (dow, block))
"""
DIRS = ("incoming", "local")


def _dir(d: str):
    return lambda b: b.split("|", 1)[0] == d


def _served(b: str) -> bool:
    return cm.is_answered(b.split("|", 1)[1])


def _unserved(b: str) -> bool:
    return not _served(b)


def _and(*preds):
    return lambda b: all(f(b) for f in preds)


def dashboard_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    w = flt.Where()
    _common_where(w, p, "v", d_from, d_to)
    return DASH_SQL.format(where=w.sql()), [d_from.isoformat(), d_to.isoformat(), *w.args]


def dashboard(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.dashboard (R28): the day, hour and weekday tables of the queue calls, by
    direction."""
    sets = cm.GroupingSets(("day", "hr", "dow"),
                           cm.records(con, *dashboard_query(p, d_from, d_to)))
    facts = {"day": cm.facts_by(sets.of("day"), cm.by_day, ("n", "dur")),
             "hr": cm.facts_by(sets.of("hr"), cm.by_hour, ("n", "dur")),
             "dow": cm.facts_by(sets.of("dow"), lambda r: str(r["dow"]), ("n", "dur"))}
    return (scaffold.day_hour_weekday_tables(facts, d_from, d_to, p.lang),
            _dash_charts(facts, cm.days_between(d_from, d_to), p.lang))


def _dash_charts(facts: dict, days: list[date], lang: str) -> list[dict]:
    it = lang == "it"

    def series(by_slot: dict, slots: list[str], field: str) -> list[dict]:
        # one pass over each slot's blocks: (direction, served) -> sum
        sums = []
        for sl in slots:
            acc: dict = {}
            for b, v in by_slot.get(sl, {}).items():
                d, blk = b.split("|", 1)
                k = (d, cm.is_answered(blk))
                acc[k] = acc.get(k, 0) + int(v.get(field, 0))
            sums.append(acc)
        out = []
        for d in DIRS:
            out.append({"key": f"{d}_total", "label": f"{d} total", "color": cm.ORANGE,
                        "kind": "column", "data": [a.get((d, True), 0) + a.get((d, False), 0)
                                                   for a in sums]})
            for ok, label in ((True, "answered"), (False, "unanswered")):
                out.append({"key": f"{d}_{label}", "label": f"{d} {label}",
                            "color": (cm.GREEN if ok else cm.RED), "kind": "line",
                            "data": [a.get((d, ok), 0) for a in sums]})
        return out

    dk, hk, wk = [d.isoformat() for d in days], [str(h) for h in range(24)], \
        [str(i) for i in range(7)]
    charts = []
    for cid, en, it_, x, slots, kind in (
            ("daily", "per day", "per giorno", [fmt.day_label(d) for d in days], dk, "day"),
            ("hourly", "by time slot", "per fascia oraria", scaffold.hour_x(), hk, "hr"),
            ("weekday", "by weekday", "per giorno della settimana", scaffold.weekday_x(lang), wk,
             "dow")):
        charts.append({"id": f"{cid}_calls", "title": ("Chiamate " + it_) if it else
                       ("Calls " + en), "type": "combo", "x": x,
                       "series": series(facts[kind], slots, "n")})
        charts.append({"id": f"{cid}_duration", "title": ("Durata (s) " + it_) if it else
                       ("Duration (s) " + en), "type": "combo", "x": x,
                       "series": series(facts[kind], slots, "dur")})
    tot: dict[str, int] = {}
    for fs in facts["dow"].values():
        for b, v in fs.items():
            blk = b.split("|", 1)[1]
            tot[blk] = tot.get(blk, 0) + int(v.get("n", 0))
    order = cm.BLOCK_ORDER

    def pie(cid: str, title: str, pred) -> dict:
        codes = [c for c in sorted(tot, key=lambda c: (order.index(c) if c in order else 99, c))
                 if pred(c)]
        return {"id": cid, "title": title, "type": "pie", "x": codes, "codes": codes,
                "series": [{"key": "n", "label": "quantity", "data": [tot[c] for c in codes]}]}

    served = sum(v for c, v in tot.items() if cm.is_answered(c))
    charts += [
        {"id": "pie_served", "title": "Servite / non servite" if it else "Served / unserved",
         "type": "pie", "x": ["served", "unserved"],
         "series": [{"key": "n", "label": "quantity", "colors": [cm.GREEN, cm.RED],
                     "data": [served, sum(tot.values()) - served]}]},
        pie("pie_exit", "Stato in uscita dalle code" if it else "Queue exit status",
            lambda c: True),
        pie("pie_served_status", "Stato delle servite" if it else "Served calls by status",
            cm.is_answered),
        pie("pie_unserved_status", "Stato delle non servite" if it else
            "Unserved calls by status", cm.is_unanswered),
    ]
    return charts


# ============================================================================ operator legs
# R32: legs summed per queue identity, operator, account and block; the directory's queue names
# are joined on those sums.
LEG_SQL = """
WITH g AS (
  SELECT g.tenant, g.qkey, g.extension AS op, g.account, g.block,
    any_value(g.queue_name) AS queue_name, count(*) AS n, sum(g.worked_s) AS worked,
    sum(g.talk_s) AS talk, sum(g.ring_s) AS ring, sum(g.resp_s) AS resp
  FROM cc_agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) {where}
  GROUP BY g.tenant, g.qkey, g.extension, g.account, g.block
), l AS (
  -- qkey is the queue id whenever the export gave one
  SELECT g.*, coalesce(qq.name, nullif(g.queue_name, ''), g.qkey) AS qlabel FROM g
  LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.qkey
  WHERE 1 = 1 {label_where}
)
SELECT {keys}, NULL AS op_name, max(qlabel) AS qlabel, block, {gid} AS gid,
  sum(n) AS n, sum(worked) AS worked, sum(talk) AS talk, sum(ring) AS ring, sum(resp) AS resp
FROM l GROUP BY GROUPING SETS ({sets})
"""
_LQLABEL = "coalesce(qq.name, nullif(g.queue_name, ''), g.qkey)"
# R34: no queue in the output, so no directory join: a queue filter matches the queue key, the
# exported name or the directory's name (a subquery on the small queues table).
OP_SQL = """
WITH g AS (
  SELECT g.extension AS op, g.block, g.dow, g.hr, count(*) AS n,
    sum(g.worked_s) AS worked, sum(g.talk_s) AS talk, sum(g.ring_s) AS ring,
    sum(g.resp_s) AS resp
  FROM cc_agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) {where} {label_where}
  GROUP BY g.extension, g.block, g.dow, g.hr
)
SELECT {keys}, NULL AS op_name, NULL AS qlabel, block, {gid} AS gid, sum(n) AS n,
  sum(worked) AS worked, sum(talk) AS talk, sum(ring) AS ring, sum(resp) AS resp
FROM g GROUP BY GROUPING SETS ({sets})
"""
BY_QUEUE_OPERATOR = Grouping(("qkey", "op", "account"), "(qkey, op, account, block)")
BY_OPERATOR = Grouping(("op", "dow", "hr"), "(op, block), (dow, block), (hr, block)")


def _leg_where(p: flt.Params, d_from: date | None = None, d_to: date | None = None
               ) -> flt.Where:
    w = flt.Where()
    _common_where(w, p, "g", d_from, d_to)
    if not p.flag("empty_queue"):
        w.add("g.qkey <> ''")
    w.any_of(["g.extension"], p.values("operator"))
    w.any_of(["g.account"], p.values("account"))
    w.any_of(["g.exit_cause", "g.block"], flt.cause_codes(p.values("exit_cause")))
    return w


def legs_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R32: the legs by queue, operator and account."""
    w, lw = _leg_where(p, d_from, d_to), flt.Where()
    lw.any_of(["g.qkey", _LQLABEL], p.values("queue"))
    g = BY_QUEUE_OPERATOR
    sql = LEG_SQL.format(where=w.sql(), label_where=lw.sql(), keys=g.columns, sets=g.sets,
                         gid=g.gid)
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args]


def operators_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R34: the legs by operator (a queue filter matches the key, the exported name or the
    directory's name)."""
    w, lw = _leg_where(p, d_from, d_to), flt.Where()
    qs = p.values("queue")
    if qs:
        ph = ", ".join("?" for _ in qs)
        lw.add(f"(g.qkey IN ({ph}) OR g.queue_name IN ({ph}) OR g.queue_id IN (SELECT id"  # noqa: S608 -- names and SQL fragments from code; values bound
               f" FROM queues WHERE name IN ({ph})))", *qs, *qs, *qs)
    g = BY_OPERATOR
    sql = OP_SQL.format(where=w.sql(), label_where=lw.sql(), keys=g.columns, sets=g.sets,
                        gid=g.gid)
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *lw.args]


def _operators(con, recs: list[dict], p: flt.Params, d_from: date, d_to: date):
    """The operators of the rows and of the filter, and their row label: the directory's
    name, else the name the export carried."""
    names = cm.operator_names(con, p.tenant)
    ops: dict[str, str | None] = {}
    for r in recs:
        if r.get("op") is not None:
            ops.setdefault(r["op"], None)
    for o in p.values("operator"):
        ops.setdefault(o, None)
    missing = [o for o in ops if o not in names]
    if missing:  # operators the directory lacks: the name the export carried
        ph = ", ".join("?" for _ in missing)
        ops.update(con.execute(f"SELECT extension, max(op_name) FROM cc_agent_legs WHERE"  # noqa: S608 -- names and SQL fragments from code; values bound
                               f" extension IN ({ph}) AND day >= CAST(? AS DATE) AND"
                               f" day <= CAST(? AS DATE) GROUP BY extension",
                               [*missing, d_from.isoformat(), d_to.isoformat()]).fetchall())
    return ops, scaffold.by_operator_label(names, ops)


def operators(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.operators (R34): one row per operator, and the chart trio."""
    sets = cm.GroupingSets(BY_OPERATOR.keys, cm.records(con, *operators_query(p, d_from, d_to)))
    ops, label = _operators(con, sets.rows, p, d_from, d_to)
    facts = cm.facts_by(sets.of("op"), lambda r: r["op"], L_FIELDS)
    table = RawTable("operators", defn.text(defn.table_title, p.lang),
                     [RowSpec(o, label(o)) for o in scaffold.operator_order(ops)], facts,
                     row_header=cm.tr(p.lang, "Operator", "Operatore"))
    return [table], scaffold.chart_trio(
        p.lang, facts, cm.facts_by(sets.of("dow"), lambda r: r["dow"], L_FIELDS),
        cm.facts_by(sets.of("hr"), lambda r: r["hr"], L_FIELDS))


def queue_operators(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cc.queue_operators (R32): per queue, operator then its accounts."""
    recs = cm.records(con, *legs_query(p, d_from, d_to))
    _ops, label = _operators(con, recs, p, d_from, d_to)
    accounts = cm.operator_accounts(con, p.tenant)
    labels: dict[str, str] = {}
    per_q: dict[str, dict] = {}
    for r in recs:
        labels.setdefault(r["qkey"], r["qlabel"] or "")
        cm.put(per_q.setdefault(r["qkey"], {}), (r["op"], r["account"] or scaffold.NO_ACCOUNT),
               r["block"], r, L_FIELDS)
    title = defn.text(defn.table_title, p.lang)
    raws = []
    for qk in _queue_order(con, labels, p):
        facts_of = per_q.get(qk, {})
        rows, facts = scaffold.operator_rows(
            scaffold.operator_order({o for o, _a in facts_of}), label, facts_of, accounts,
            p.lang, only=set(p.values("account")))
        raws.append(RawTable(qk, scaffold.per_entity_title(title, p.lang, ("queue", "coda"),
                                                           labels[qk]),
                             rows, facts, row_header=cm.tr(p.lang, "Operator", "Operatore")))
    return raws, []


# ============================================================================ drill-down
# The queue calls and operator legs behind the cells: the same filters and identities as the
# report queries above; the list shows each fact's own entry time and numbers.
_OWN = "CAST(timezone(?, {a}.enter_ts) AS TIMESTAMP) AS started, {a}.caller, {a}.called, {a}.status"


def _queue_facts_where(p: flt.Params, d_from: date, d_to: date) -> tuple[flt.Where, flt.Where]:
    w = flt.Where()
    _common_where(w, p, "v", d_from, d_to)
    if not p.flag("empty_queue"):
        w.add("v.qkey <> ''")
    w.any_of(["v.exit_cause", "v.block"], flt.cause_codes(p.values("exit_cause")))
    lw = flt.Where()
    lw.any_of(["g.qkey", _QLABEL], p.values("queue"))
    return w, lw


def queue_facts(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R29 / R31 / R33: one row per queue call (as `queue_query`)."""
    w, lw = _queue_facts_where(p, d_from, d_to)
    sql = f"""SELECT g.tenant, g.unique_id, g.qkey, g.day, g.hr, g.dow, g.block, g.enter_ts,
  {_OWN.format(a="g")}, {_QLABEL} AS queue, g.hold_s, g.talk_s
FROM (SELECT v.* FROM queue_calls v
      WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {w.sql()}) g
LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.queue_id
WHERE 1 = 1 {lw.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [get_settings().timezone, d_from.isoformat(), d_to.isoformat(), *w.args,
                 *lw.args]


def dashboard_facts(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R28: every queue call, block = direction|outcome."""
    w = flt.Where()
    _common_where(w, p, "v", d_from, d_to)
    sql = f"""SELECT v.tenant, v.unique_id, v.qkey, v.day, v.hr, v.dow, v.enter_ts,
  v.direction || '|' || v.block AS block, {_OWN.format(a="v")}, v.tot_s
FROM queue_calls v WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {w.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [get_settings().timezone, d_from.isoformat(), d_to.isoformat(), *w.args]


def callers_facts(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R30: each incoming call once (as `callers_query`)."""
    sql, args = callers_query(p, d_from, d_to, details=(
        ", min(v.enter_ts) AS enter_ts, arg_min(v.caller, v.enter_ts) AS caller, "
        "arg_min(v.called, v.enter_ts) AS called, arg_min(v.status, v.enter_ts) AS status"))
    cte = sql[:sql.rindex("SELECT day,")]  # the report's own calls, WITH c AS (...)
    return (f"""{cte}SELECT c.tenant, c.unique_id, c.day, c.caller, c.called, c.status,
  CAST(timezone(?, c.enter_ts) AS TIMESTAMP) AS started,
  CASE WHEN c.ans THEN 'ANSWER' ELSE 'UNANSWERED' END AS block FROM c""",  # noqa: S608 -- names and SQL fragments from code; values bound
            [*args, get_settings().timezone])


_LEG_OWN = ("CAST(timezone(?, g.q_enter_ts) AS TIMESTAMP) AS started, g.caller, g.called, "
            "g.status, g.seq, g.extension AS op, g.account, g.ring_s, g.talk_s")


def queue_operator_facts(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R32: the legs by queue, operator and account (as `legs_query`)."""
    w, lw = _leg_where(p, d_from, d_to), flt.Where()
    lw.any_of(["g.qkey", _LQLABEL], p.values("queue"))
    sql = f"""SELECT g.tenant, g.unique_id, g.qkey, g.block, {_LEG_OWN},
  {_LQLABEL} AS queue
FROM (SELECT g.* FROM cc_agent_legs g
      WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) {w.sql()}) g
LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.qkey
WHERE 1 = 1 {lw.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [get_settings().timezone, d_from.isoformat(), d_to.isoformat(), *w.args,
                 *lw.args]


def operator_facts(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R34: the legs by operator (as `operators_query`)."""
    w, lw = _leg_where(p, d_from, d_to), flt.Where()
    qs = p.values("queue")
    if qs:
        ph = ", ".join("?" for _ in qs)
        lw.add(f"(g.qkey IN ({ph}) OR g.queue_name IN ({ph}) OR g.queue_id IN (SELECT id"  # noqa: S608 -- names and SQL fragments from code; values bound
               f" FROM queues WHERE name IN ({ph})))", *qs, *qs, *qs)
    sql = f"""SELECT g.tenant, g.unique_id, g.qkey, g.block, {_LEG_OWN} FROM cc_agent_legs g
WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) {w.sql()} {lw.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [get_settings().timezone, d_from.isoformat(), d_to.isoformat(), *w.args,
                 *lw.args]


_Q_EXTRA = (("queue", "queue", "coda", "text"), ("hold_s", "wait", "attesa", "duration"),
            ("talk_s", "talk", "conversazione", "duration"))
_L_EXTRA = (("op", "operator", "operatore", "text"), ("account", "account", "account", "text"),
            ("ring_s", "ring", "squillo", "duration"), ("talk_s", "talk", "conversazione",
                                                        "duration"))


def _facts(query, **kw) -> drilldown.Facts:
    return drilldown.Facts(query, details="own", **kw)


# ============================================================================ definitions
Q_LAYOUT = (
    *q_family.LAYOUT[:3],
    BlockGroups(cm.BLOCK_ORDER, q_family.visit_metrics, _LABELS),
)
Q_SUMMARY = (
    cm.SUMMARY_QTY,
    cm.summary_total("talk", "talk time", "tempo di conversazione", "talk"),
    cm.summary_avg("avg_tot", "avg call duration", "media durata chiamata", "tot"),
    cm.summary_avg("avg_welcome", "avg welcome-message wait",
                   "media tempo attesa messaggio di benvenuto", "welcome"),
    cm.summary_avg("avg_queuing", "avg queuing time", "media tempo accodamento", "queuing"),
    cm.summary_avg("avg_queue_wait", "avg wait in queue", "media tempo attesa in coda", "qwait"),
    cm.summary_avg("avg_hold", "avg wait", "media tempo di attesa", "hold"),
)
CC_DEFINITIONS = (
    ("source", "The Call Center CDR (queue calls and operator events), not the CDR."),
    ("date", "A queue call (and its operator legs) is placed by its end: the exit time from "
             "the queue, in the PBX timezone (C22; the PBX filters the Call Center CDR on it, "
             "L2585). Both dates inclusive."),
    ("direction", "incoming = from an inbound line (Ingresso); local = from an internal "
                  "extension (Locale) (C26)."),
    ("status", "The call's CDR status carried by the export (C25)."),
)
Q_DEFINITIONS = (
    *CC_DEFINITIONS,
    ("grain", "One row per call and queue visit; a call that overflows from queue A to B "
              "counts once in each (C4)."),
    ("answered", "NCC and TRASFERIMENTO (the export's TRANSFER: the answering operator "
                 "transferred the caller); every other outcome is unanswered."),
    ("blocks", "TIMEOUT (max wait) shows as NOANSWER, QUEUE_JOINEMPTY as QUEUE_JOINEMPTY, "
               "CANCELED_NOWAIT (the caller hung up before the welcome message ended, L5696) "
               "as CANCELED NOWAIT."),
    ("welcome-message wait", "(welcome end, else enqueue, else exit) − enter (C7)."),
    ("tempo accodamento", "enqueue − welcome end (0 without both) (C7)."),
    ("tempo attesa in coda", "(answer, else exit) − (enqueue, else welcome end) (C7)."),
    ("tempo di attesa", "welcome + accodamento + attesa in coda = (answer, else exit) − enter."),
    ("durata / talk / risposta operatore", "answered: exit − enter / exit − answer / answer − "
                                          "(enqueue, else enter); unanswered attesa: exit − "
                                          "enter (§0.9)."),
    ("averages", "Σ seconds / count, floored; header averages divide by the table quantity "
                 "(C1, C2)."),
)
_Q_FILTERS = (flt.STATUS, flt.EXIT_CAUSE, flt.QUEUE, DIRECTION, flt.EMPTY_QUEUE, calendars.HOURS)

register_report(Report(
    id="cc.dashboard", en="Call Center dashboard", it="Voip Report Call Center",
    facts=_facts(dashboard_facts, row={"daily": "day", "hourly": "hr", "weekly": "dow"}),
    source="CC queue call", build=dashboard,
    tables_doc="three tables: every day of the range, 24 hours, 7 weekdays (Sunday first); "
               "columns by direction (incoming / local)",
    filters=(calendars.HOURS,), layout=(
        Group("total", "TOTAL", "TOTALE", (
            M("served", "served", "servite", blocks=_served, thousands=False),
            M("unserved", "unserved", "non servite", blocks=_unserved, thousands=False))),
        *(Group(d, en, it_, (
            M("n", "quantity", "quantità", thousands=False),
            M("served", "served", "servite", blocks=_served, thousands=False),
            M("unserved", "unserved", "non servite", blocks=_unserved, thousands=False),
            M("dur", "duration", "durata", "duration_h", field="dur"),
            M("avg_dur", "avg duration", "durata media", _D, "avg", "dur")), blocks=_dir(d))
          for d, en, it_ in (("incoming", "INCOMING", "INGRESSO"),
                             ("local", "LOCAL", "LOCALE")))),
    summary=tuple(
        sf for d, en, it_ in (("incoming", "Incoming", "Ingresso"), ("local", "Local", "Locale"))
        for sf in (
            SummaryField(f"{d}.n", f"{en} quantity", f"{it_} quantità",
                         M("n", "", "", blocks=_dir(d))),
            SummaryField(f"{d}.duration", f"{en} duration", f"{it_} durata",
                         M("d", "", "", _D, field="dur", blocks=_dir(d))),
            SummaryField(f"{d}.avg_duration", f"{en} average duration", f"{it_} durata media",
                         M("a", "", "", _D, "avg", "dur", blocks=_dir(d))))),
    charts_doc="report charts: `daily_calls`, `daily_duration`, `hourly_calls`, "
               "`hourly_duration`, `weekday_calls`, `weekday_duration` (per direction: total "
               "column, answered and unanswered lines), `pie_served` (served vs unserved), "
               "`pie_exit` (queue exit status), `pie_served_status`, `pie_unserved_status`.",
    definitions=(*Q_DEFINITIONS,
                 ("durata", "exit − enter of the queue call (time spent in the queue service)."),
                 ("served", "answered queue calls (NCC, TRASFERIMENTO)."),
                 ("empty queue", "the dashboard counts every queue call, those in an empty "
                                 "(unnamed) queue included: it has no empty-queue filter."))))

register_report(Report(
    id="cc.queues", en="Call Center queue report", it="Voip Report Call Center Code",
    facts=_facts(queue_facts, row="qkey", extra=_Q_EXTRA),
    source="CC queue call", build=by_queue, tables_doc="one table; one row per queue",
    filters=_Q_FILTERS, layout=Q_LAYOUT, summary=Q_SUMMARY, definitions=Q_DEFINITIONS,
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (total column, answered "
               "and unanswered lines; Sunday first)."))

register_report(Report(
    id="cc.queue_callers", en="Call Center queue report per caller",
    facts=_facts(callers_facts, row="day"),
    it="Voip Report Call Center Code per Caller", source="CC queue call (incoming calls)",
    build=callers, tables_doc="one table; one row per day of the range (the data of the charts)",
    filters=(flt.QUEUE, flt.EMPTY_QUEUE, calendars.HOURS),
    layout=(Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
            Group("answered", "ANSWERED", "RISPOSTE", (cm.QTY,), blocks=cm.is_answered),
            Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,),
                  blocks=cm.is_unanswered)),
    summary=(SummaryField("n", "calls", "chiamate", cm.QTY),),
    table_title=("Incoming calls", "Chiamate in ingresso"),
    charts_doc="report charts: `answered_pie` and `by_day` (answered / unanswered per day).",
    definitions=(*CC_DEFINITIONS,
                 ("grain", "One row per incoming call, counted once across the queues it "
                           "visited (C8)."),
                 ("answered", "at least one of its queue visits was answered."),
                 ("day", "the (end) day of its first queue visit."))))

register_report(Report(
    id="cc.queues_by_date", en="Call Center queue report by date",
    facts=_facts(queue_facts, table="qkey", row="day", extra=_Q_EXTRA),
    it="Voip Report Call Center Code per Data", source="CC queue call", build=by_queue_date,
    tables_doc="one table per queue; one row per day of the range (every day listed)",
    filters=_Q_FILTERS, layout=Q_LAYOUT, summary=Q_SUMMARY, definitions=Q_DEFINITIONS,
    charts_doc="per table: `by_weekday` (total, answered, unanswered; Sunday first)."))

L_DEFINITIONS = (
    *CC_DEFINITIONS,
    ("grain", "One row per presentation of a queue call to an operator account (an operator "
              "event of the Call Center CDR), not per call (C4)."),
    ("blocks", "the event outcome: NCC-AGENT, NCC-CALLER, NCC, ANSWER, TRANSFER (answered); "
               "ANSWERED ELSEWHERE, TIMEOUT, REFUSED (= DECLINED), BUSY, UNAVAILABLE, "
               "CANCELED, CANCELED NOWAIT, FORWARD (UFWD/CFWD2MOBILE/FASTXFER2MOBILE) ..."),
    ("tempo lavorato", "answered: talk; ANSWERED ELSEWHERE / REFUSED / TIMEOUT: 0; other "
                       "unanswered: end − ring start (C17)."),
    ("tempo squillo", "(answer, else end) − ring start (C19)."),
    ("tempo risposta", "answered: answer − entry into the queue (C19)."),
    ("operator rows", "An operator row is the sum of its account rows, which are listed even "
                      "without data (§0.5 rule 8)."),
)

register_report(Report(
    id="cc.queue_operators", en="Call Center queue operators report",
    it="Voip Report Call Center Code con Dettaglio Operatori Account",
    facts=_facts(queue_operator_facts, table="qkey", accounts=True, extra=_L_EXTRA,
                 order="seq"),
    source="CC operator event", build=queue_operators,
    tables_doc="one table per queue; rows: operator, then its accounts",
    filters=(flt.STATUS, flt.EXIT_CAUSE, flt.QUEUE, flt.OPERATOR, flt.ACCOUNT, DIRECTION,
             flt.EMPTY_QUEUE, calendars.HOURS),
    layout=op_family.R3_LAYOUT, summary=op_family.LEG_SUMMARY, definitions=L_DEFINITIONS,
    charts_doc="none."))

register_report(Report(
    id="cc.queues_by_hour", en="Call Center queue report by hour",
    facts=_facts(queue_facts, table="qkey", row="hr", extra=_Q_EXTRA),
    it="Voip Report Call Center Code per Ora", source="CC queue call", build=by_queue_hour,
    tables_doc="one table per queue; 24 rows 00:00-23:00",
    filters=_Q_FILTERS, layout=Q_LAYOUT, summary=Q_SUMMARY, definitions=Q_DEFINITIONS,
    charts_doc="none (tables only)."))

register_report(Report(
    id="cc.operators", en="Call Center operators report", it="Voip Report Call Center Operatori",
    facts=_facts(operator_facts, row="op", extra=_L_EXTRA, order="seq"),
    source="CC operator event", build=operators, tables_doc="one table; one row per operator",
    filters=(flt.STATUS, flt.EXIT_CAUSE, flt.OPERATOR, flt.QUEUE, DIRECTION, calendars.HOURS),
    layout=op_family.R14_LAYOUT, summary=op_family.LEG_SUMMARY, definitions=L_DEFINITIONS,
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (total column, answered "
               "and unanswered lines)."))
