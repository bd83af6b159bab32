"""The queue-visit family: R2 (by queue), R4 (per queue, by date), R5 (per queue, by hour).

One SQL template over CDR queue visits (detail lines with destination type `queue`), grouped by
GROUPING SETS chosen by the report's grouping. Per-visit quantities follow spec §0.9.
"""

from __future__ import annotations

from datetime import date

from pbxlens.config import get_settings
from pbxlens.reports import calendars, definitions, drilldown, scaffold
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import BlockGroups, Built, Group, Report, SummaryField, register_report
from pbxlens.reports.common import Grouping, M
from pbxlens.reports.engine import RawTable, RowSpec

FIELDS = ("n", "tot", "talk", "dur", "queuing", "resp", "wait", "notalk", "asa", "sl_hit",
          "sl_den", "ab", "ab_den", "short")


_ANS = ", ".join(f"'{b}'" for b in cm.ANSWERED_BLOCKS)
_QLABEL = "coalesce(q.name, nullif(g.queue_name, ''), g.queue_id, '')"

# Reads the derived table queue_visits (one row per visit, §0.9 times precomputed at ingest by
# pbxlens.ingest.derive): no join to call_legs. The visits of the range are first summed per
# finest grouping key, queue identity and KPI threshold side (answered within T s; waited at
# least S s), so that no per-visit CASE and no per-visit join run; queue names come from the
# directory on those sums, which are then rolled up into the grouping sets.
SQL = f"""
WITH g AS (
  SELECT v.tenant, v.queue_id, v.queue_name, {{fine}}, {{fast}} AS fast,
    {{long}} AS long,{{variant}} count(*) AS n, sum(v.tot_s) AS tot, sum(v.talk_s) AS talk,
    sum(v.dur_s) AS dur, sum(v.queuing_s) AS queuing, sum(v.resp_s) AS resp,
    sum(v.wait_s) AS wait, sum(v.asa_s) AS asa
  FROM queue_visits v{{defs}}
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {{call_where}} {{visit_where}}
  GROUP BY v.tenant, v.queue_id, v.queue_name, {{fine}}, fast, long{{group_variant}}
), l AS (
  SELECT g.*, {_QLABEL} AS qlabel,
    g.block IN ({_ANS}) AS ans, g.block IN ('CANCELED', 'CANCELED NOWAIT') AS canc
  FROM g
  LEFT JOIN queues q ON q.tenant = g.tenant AND q.id = g.queue_id
  WHERE 1 = 1 {{label_where}}
)
SELECT {{keys}}, max(qlabel) AS qlabel, block, {{gid}} AS gid,
  sum(n) AS n, sum(tot) AS tot, sum(talk) AS talk, sum(dur) AS dur, sum(queuing) AS queuing,
  sum(resp) AS resp, sum(wait) AS wait, sum(tot) - sum(talk) AS notalk, sum(asa) AS asa,
  sum(CASE WHEN ans AND fast THEN n ELSE 0 END) AS sl_hit,
  sum({{sl_den}}) AS sl_den,
  sum(CASE WHEN canc AND long THEN n ELSE 0 END) AS ab,
  sum(CASE WHEN block IN ('QUEUE_JOINEMPTY', 'FULL', 'CLOSED') OR (canc AND NOT long)
      THEN 0 ELSE n END) AS ab_den,
  sum(CASE WHEN canc AND NOT long THEN n ELSE 0 END) AS short
FROM l
GROUP BY GROUPING SETS ({{sets}})
"""  # noqa: S608 -- names and SQL fragments from code; values bound

BY_QUEUE = Grouping(("qkey", "dow", "hr"), "(qkey, block), (dow, block), (hr, block)")
BY_QUEUE_DATE = Grouping(("qkey", "day", "dow"), "(qkey, day, block), (qkey, dow, block)")
BY_QUEUE_HOUR = Grouping(("qkey", "hr"), "(qkey, hr, block)")


def visit_where(p: flt.Params, d_from: date, d_to: date
                ) -> tuple[flt.Where, flt.Where, flt.Where]:
    """The filters of a queue-visit report: on the call (`v`), on the visit (`v`) and on the
    queue's identity (`g.qkey` and its directory label, after the directory join). The
    drill-down's list of visits uses the same three (pbxlens.reports.drilldown)."""
    cw = flt.Where()
    flt.call_filters(cw, p, "v")
    vw = flt.Where()  # on visits
    if not p.flag("empty_queue"):
        vw.add("v.qkey <> ''")
    vw.any_of(["v.exit_cause", "v.block"], flt.cause_codes(p.values("exit_cause")))
    calendars.hours_where(vw, p, calendars.Clock("v", qkey="v.qkey"), d_from, d_to)
    lw = flt.Where()  # on queue identities (the name comes from the directory)
    lw.any_of(["g.qkey", _QLABEL], p.values("queue"))
    return cw, vw, lw


def query(g: Grouping, p: flt.Params, d_from: date, d_to: date, *, custom: bool = False
          ) -> tuple[str, list]:
    """The query of a grouping. `custom`: some queue has its own service-level definition
    (pbxlens.reports.definitions), so each visit is judged by its queue's T, S and variant;
    otherwise by the settings, in SQL that the hourly rollup can answer."""
    st = get_settings()
    cw, vw, lw = visit_where(p, d_from, d_to)
    fine = ", ".join(f"v.{k}" for k in (*g.keys, "block"))
    t, s = st.service_level_s, st.short_abandon_s
    if custom:
        parts = dict(fast="v.asa_s <= coalesce(d.sl_threshold_s, ?)",
                     long="v.wait_s >= coalesce(d.short_abandon_s, ?)",
                     variant=" coalesce(d.sl_variant, ?) AS variant,",
                     defs="\n  LEFT JOIN queue_definitions d ON d.tenant = v.tenant"
                          " AND d.qkey = v.qkey", group_variant=", variant",
                     sl_den=definitions.den_sql("variant"))
        lead = [t, s, definitions.default().variant]
    else:
        parts = dict(fast="v.asa_s <= ?", long="v.wait_s >= ?", variant="", defs="",
                     group_variant="", sl_den=definitions.den_sql())
        lead = [t, s]
    sql = SQL.format(call_where=cw.sql(), visit_where=vw.sql(), label_where=lw.sql(),
                     keys=g.columns, gid=g.gid, sets=g.sets, fine=fine, **parts)
    return sql, [*lead, d_from.isoformat(), d_to.isoformat(), *cw.args, *vw.args, *lw.args]


def uses_definitions(con, p: flt.Params) -> bool:
    """Whether a queue of the report's scope has its own definition, or the default variant
    is not the one the rollup's flags were built for."""
    return (definitions.default().variant != "abandon_aware"
            or definitions.custom_count(con, p.tenant) > 0)


def visits(con, g: Grouping, p: flt.Params, d_from: date, d_to: date
           ) -> tuple[cm.GroupingSets, dict[str, str], list[str]]:
    """The summed visits by grouping set, the queues' labels and their display order (a
    filtered queue is listed even without data)."""
    sets = cm.GroupingSets(g.keys, cm.records(con, *query(
        g, p, d_from, d_to, custom=uses_definitions(con, p))))
    labels = {r["qkey"]: r["qlabel"] or "" for r in sets.having("qkey")}
    cm.add_filtered(con, labels, p.values("queue"), "queues")
    return sets, labels, sorted(labels, key=lambda k: (k == "", (labels[k] or "").lower(), k))


def by_queue(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.queues: one row per queue, and the chart trio."""
    sets, labels, order = visits(con, BY_QUEUE, p, d_from, d_to)
    facts = cm.facts_by(sets.of("qkey"), lambda r: r["qkey"], FIELDS)
    table = RawTable("queues", defn.text(defn.table_title, p.lang),
                     [RowSpec(k, labels[k]) for k in order], facts,
                     row_header=cm.tr(p.lang, "Queue", "Coda"))
    return [table], scaffold.chart_trio(p.lang, facts,
                                        cm.facts_by(sets.of("dow"), lambda r: r["dow"], FIELDS),
                                        cm.facts_by(sets.of("hr"), lambda r: r["hr"], FIELDS))


def by_date(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.queues_by_date: per queue, one row per day and its weekday chart."""
    sets, labels, order = visits(con, BY_QUEUE_DATE, p, d_from, d_to)
    title = defn.text(defn.table_title, p.lang)
    raws = []
    for qk in order:
        days = cm.facts_by((r for r in sets.of("qkey", "day") if r["qkey"] == qk), cm.by_day,
                           FIELDS)
        dows = cm.facts_by((r for r in sets.of("qkey", "dow") if r["qkey"] == qk),
                           lambda r: r["dow"], FIELDS)
        raws.append(scaffold.daily_table(
            qk, scaffold.per_entity_title(title, p.lang, ("queue", "coda"), labels[qk]), days,
            d_from, d_to, p.lang, charts=[scaffold.weekday_chart(p.lang, dows)]))
    return raws, []


def by_hour(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.queues_by_hour: per queue, 24 rows."""
    sets, labels, order = visits(con, BY_QUEUE_HOUR, p, d_from, d_to)
    title = defn.text(defn.table_title, p.lang)
    return [scaffold.hourly_table(
        qk, scaffold.per_entity_title(title, p.lang, ("queue", "coda"), labels[qk]),
        cm.facts_by((r for r in sets.of("qkey", "hr") if r["qkey"] == qk), cm.by_hour, FIELDS),
        p.lang) for qk in order], []


# ----------------------------------------------------------------------------- definitions

_DUR = "duration"


def _answered_metrics(_code: str):
    return (
        cm.QTY,
        M("dur", "duration", "durata", _DUR, field="dur"),
        M("avg_dur", "avg call duration", "media durata chiamata", _DUR, "avg", "dur"),
        M("talk", "talk time", "tempo conversazione", _DUR, field="talk"),
        M("avg_talk", "avg talk time", "media tempo conversazione", _DUR, "avg", "talk"),
        M("avg_queuing", "avg queuing time", "media tempo accodamento", _DUR, "avg", "queuing"),
        M("avg_resp", "avg operator response", "media tempo risposta operatore", _DUR, "avg",
          "resp"),
    )


def _unanswered_metrics(_code: str):
    return (
        cm.QTY,
        M("wait", "wait", "attesa", _DUR, field="wait"),
        M("avg_wait", "avg wait", "attesa media", _DUR, "avg", "wait"),
    )


def visit_metrics(code: str):
    """The metrics of one exit-cause group of a queue-visit report (answered or not)."""
    return _answered_metrics(code) if cm.is_answered(code) else _unanswered_metrics(code)


KPI_DOC = {
    "sl": "Service level % = visits answered within T s of entering the queue / the "
          "denominator of the queue's variant: by default answered visits + abandoned visits "
          "that waited at least S s (timeouts and join-empty visits outside it, anchors §2.1); "
          "or offered visits, answered visits, offered − short abandons. T, S and the variant "
          "are the queue's own definition, else the settings service_level_s (20), "
          "short_abandon_s (5), service_level_variant; the definitions block states them. "
          "Totals: Σ hits / Σ denominators of the queues.",
    "sl_ans": "Service level of answered % = answered within T s / answered visits (T of the "
              "queue's definition).",
    "asa": "ASA (average speed of answer) = Σ (answer − queue entry) of answered visits / "
           "answered visits, floored to whole seconds (anchors §2.2).",
    "ab_rate": "Abandonment rate % = visits abandoned (CANCELED) after at least S s / (visits "
               "− never queued (QUEUE_JOINEMPTY, FULL, CLOSED) − short abandons); S of the "
               "queue's definition.",
    "short": "Short abandons = visits abandoned (CANCELED) in less than S s (S of the queue's "
             "definition); excluded from the service level and abandonment rate.",
}

KPI_GROUP = Group("kpi", "SERVICE LEVEL (beyond Nexus)", "LIVELLO DI SERVIZIO (oltre Nexus)", (
    M("sl", "service level", "livello di servizio", "percent", "pct", "sl_hit", ("sl_den",),
      doc=KPI_DOC["sl"]),
    M("sl_ans", "SL of answered", "LdS sulle risposte", "percent", "pct", "sl_hit", ("n",),
      blocks=cm.is_answered, doc=KPI_DOC["sl_ans"]),
    M("asa", "ASA", "velocità media di risposta", _DUR, "avg", "asa", ("n",),
      blocks=cm.is_answered, doc=KPI_DOC["asa"]),
    M("ab_rate", "abandonment rate", "tasso di abbandono", "percent", "pct", "ab", ("ab_den",),
      doc=KPI_DOC["ab_rate"]),
    M("short", "short abandons", "abbandoni brevi", field="short", doc=KPI_DOC["short"]),
))

LAYOUT = (
    Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
    Group("answered", "ANSWERED", "RISPOSTE", (
        cm.QTY,
        M("avg_dur", "avg call duration", "media durata chiamata", _DUR, "avg", "dur"),
        M("avg_talk", "avg talk time", "media tempo conversazione", _DUR, "avg", "talk"),
        M("avg_queuing", "avg queuing time", "media tempo accodamento", _DUR, "avg", "queuing"),
        M("avg_resp", "avg operator response", "media tempo risposta operatore", _DUR, "avg",
          "resp"),
    ), blocks=cm.is_answered),
    Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,), blocks=cm.is_unanswered),
    BlockGroups(cm.BLOCK_ORDER, visit_metrics, cm.CAUSE_LABELS),
    KPI_GROUP,
)

SUMMARY = (
    cm.SUMMARY_QTY,
    cm.summary_total("tot", "total time", "tempo totale", "tot"),
    cm.summary_total("talk", "talk time", "tempo di conversazione", "talk"),
    cm.summary_avg("avg_tot", "avg total time", "media tempo totale", "tot"),
    cm.summary_avg("avg_queuing", "avg queuing time", "media tempo accodamento", "queuing"),
    cm.summary_avg("avg_wait", "avg wait", "media tempo attesa", "notalk"),
    cm.summary_avg("avg_resp", "avg operator response", "media tempo risposta operatore", "resp"),
    cm.summary_avg("avg_talk", "avg talk time", "media tempo conversazione", "talk"),
    SummaryField("service_level", "service level", "livello di servizio", KPI_GROUP.metrics[0]),
    SummaryField("asa", "ASA", "velocità media di risposta", KPI_GROUP.metrics[2]),
    SummaryField("abandonment_rate", "abandonment rate", "tasso di abbandono",
                 KPI_GROUP.metrics[3]),
)

DEFINITIONS = (
    ("grain", "One row per queue visit: a CDR detail line with destination type `queue`; a call "
              "that overflows from queue A to B counts once in each (C4)."),
    ("answered", "NCC (answered, normal clearing) and TRASFERIMENTO (= exit cause ATXFER, C15); "
                 "every other exit cause is unanswered (§0.5 rules 5-6)."),
    ("durata / tempo totale", "exit − enter of the visit; for unanswered visits it is the wait "
                              "(attesa). Header tempo totale = Σ durata + Σ attesa (§0.5 r3)."),
    ("tempo conversazione", "exit − answer of answered visits."),
    ("tempo accodamento", "enqueue − enter (0 when the PBX gives no separate enqueue time)."),
    ("tempo risposta operatore", "answer − enqueue of answered visits."),
    ("media tempo attesa (header)", "(tempo totale − tempo conversazione) / quantità (§0.5 r2)."),
    ("averages", "Σ seconds / count, floored; header averages divide by the table quantity, "
                 "column averages by their own count; totals rows are weighted (C1, C2)."),
    ("date", "Calls are placed by their start time in the PBX timezone; both dates inclusive."),
    *((k, v) for k, v in KPI_DOC.items()),
)

_Q_FILTERS = (flt.STATUS, flt.EXIT_CAUSE, flt.QUEUE, flt.EMPTY_QUEUE, calendars.HOURS)


# The visits behind the cells (drill-down): the same filters, the same queue identity; `short`
# is judged by the queue's own S, as the report does.
FACTS_SQL = f"""
SELECT g.tenant, g.unique_id, g.leg_branch, g.seq, g.qkey, g.day, g.hr, g.dow, g.block,
  {_QLABEL} AS queue, g.asa_s, g.wait_s, g.talk_s,
  CASE WHEN g.block IN ('CANCELED', 'CANCELED NOWAIT')
       AND g.wait_s < coalesce(d.short_abandon_s, ?) THEN 1 ELSE 0 END AS short
FROM (SELECT v.* FROM queue_visits v
      WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {{call_where}} {{visit_where}}
     ) g
LEFT JOIN queues q ON q.tenant = g.tenant AND q.id = g.queue_id
LEFT JOIN queue_definitions d ON d.tenant = g.tenant AND d.qkey = g.qkey
WHERE 1 = 1 {{label_where}}
"""  # noqa: S608 -- names and SQL fragments from code; values bound


def facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    cw, vw, lw = visit_where(p, d_from, d_to)
    sql = FACTS_SQL.format(call_where=cw.sql(), visit_where=vw.sql(), label_where=lw.sql())
    return sql, [get_settings().short_abandon_s, d_from.isoformat(), d_to.isoformat(),
                 *cw.args, *vw.args, *lw.args]


_EXTRA = (("queue", "queue", "coda", "text"), ("asa_s", "answered after", "risposta dopo",
                                               "duration"),
          ("wait_s", "wait (unanswered)", "attesa (non risposte)", "duration"),
          ("talk_s", "talk", "conversazione", "duration"))
FACTS = drilldown.Facts(facts_query, row="qkey", extra=_EXTRA, order="seq")
FACTS_BY_DATE = drilldown.Facts(facts_query, table="qkey", row="day", extra=_EXTRA, order="seq")
FACTS_BY_HOUR = drilldown.Facts(facts_query, table="qkey", row="hr", extra=_EXTRA, order="seq")


def explain(con, defn: Report, p: flt.Params) -> list[tuple[str, str]]:
    """The service-level definitions in force: the default and each queue's own."""
    return definitions.explain_queues(con, p.tenant, p.lang)


register_report(Report(
    id="cdr.queues", en="Queue report", it="Voip Report Cdr Code", source="CDR queue visit",
    build=by_queue, tables_doc="one table; one row per queue",
    filters=_Q_FILTERS, layout=LAYOUT, summary=SUMMARY, definitions=DEFINITIONS, explain=explain, facts=FACTS,
    charts_doc="report charts: `answered_pie` (answered vs unanswered), `by_weekday` and "
               "`by_hour` (total column, answered and unanswered lines; Sunday first); a mini "
               "pie (answered vs unanswered) before each queue name in the web table.",
    row_pie=("answered.n", "unanswered.n")))

register_report(Report(
    id="cdr.queues_by_date", en="Queue report by date", it="Voip Report Cdr Code per Data",
    source="CDR queue visit", build=by_date,
    tables_doc="one table per queue; one row per day of the range (every day listed)",
    filters=_Q_FILTERS, layout=LAYOUT, summary=SUMMARY, definitions=DEFINITIONS, explain=explain,
    facts=FACTS_BY_DATE,
    charts_doc="per table: `by_weekday` (total, answered, unanswered; Sunday first)."))

register_report(Report(
    id="cdr.queues_by_hour", en="Queue report by hour", it="Voip Report Cdr Code per Ora",
    source="CDR queue visit", build=by_hour, tables_doc="one table per queue; 24 rows 00:00-23:00",
    filters=_Q_FILTERS, layout=LAYOUT, summary=SUMMARY, definitions=DEFINITIONS, explain=explain,
    facts=FACTS_BY_HOUR,
    charts_doc="none (tables only)."))
