"""The queue-visit family: R2 (by queue), R4 (per queue, by date), R5 (per queue, by hour).

One SQL template over CDR queue visits (detail lines with destination type `queue`), grouped by
GROUPING SETS chosen by the report's grouping. Per-visit quantities follow spec §0.9.
"""

from __future__ import annotations

from datetime import date

from pbxlens.config import get_settings
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import BlockGroups, Group, ReportDef, SummaryField, register
from pbxlens.reports.common import M
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
  SELECT v.tenant, v.queue_id, v.queue_name, {{fine}}, v.asa_s <= ? AS fast,
    v.wait_s >= ? AS long, count(*) AS n, sum(v.tot_s) AS tot, sum(v.talk_s) AS talk,
    sum(v.dur_s) AS dur, sum(v.queuing_s) AS queuing, sum(v.resp_s) AS resp,
    sum(v.wait_s) AS wait, sum(v.asa_s) AS asa
  FROM queue_visits v
  WHERE v.day >= CAST(? AS DATE) AND v.day <= CAST(? AS DATE) {{call_where}} {{visit_where}}
  GROUP BY v.tenant, v.queue_id, v.queue_name, {{fine}}, fast, long
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
  sum(CASE WHEN ans OR (canc AND long) THEN n ELSE 0 END) AS sl_den,
  sum(CASE WHEN canc AND long THEN n ELSE 0 END) AS ab,
  sum(CASE WHEN block IN ('QUEUE_JOINEMPTY', 'FULL', 'CLOSED') OR (canc AND NOT long)
      THEN 0 ELSE n END) AS ab_den,
  sum(CASE WHEN canc AND NOT long THEN n ELSE 0 END) AS short
FROM l
GROUP BY GROUPING SETS ({{sets}})
"""

# grouping -> (key columns, grouping sets)
GROUPINGS = {
    "queue": (("qkey", "dow", "hr"), "(qkey, block), (dow, block), (hr, block)"),
    "queue_date": (("qkey", "day", "dow"), "(qkey, day, block), (qkey, dow, block)"),
    "queue_hour": (("qkey", "hr"), "(qkey, hr, block)"),
}


def query(defn: ReportDef, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    st = get_settings()
    cw = flt.Where()
    flt.call_filters(cw, p, "v")
    vw = flt.Where()  # on visits
    if not p.flag("empty_queue"):
        vw.add("v.qkey <> ''")
    vw.any_of(["v.exit_cause", "v.block"], flt.cause_codes(p.values("exit_cause")))
    lw = flt.Where()  # on queue identities (the name comes from the directory)
    lw.any_of(["g.qkey", _QLABEL], p.values("queue"))
    keys, sets = GROUPINGS[defn.grouping]
    gid = "GROUPING(" + ", ".join(keys) + ")"
    fine = ", ".join(f"v.{k}" for k in (*keys, "block"))
    sql = SQL.format(call_where=cw.sql(), visit_where=vw.sql(), label_where=lw.sql(),
                     keys=", ".join(keys), gid=gid, sets=sets, fine=fine)
    t, s = st.service_level_s, st.short_abandon_s
    return sql, [t, s, d_from.isoformat(), d_to.isoformat(), *cw.args, *vw.args, *lw.args]


def build(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    sql, args = query(defn, p, d_from, d_to)
    cols, rows = cm.fetch(con, sql, args)
    keys, _sets = GROUPINGS[defn.grouping]
    nk = len(keys)
    lang = p.lang
    it = lang == "it"
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    labels: dict[str, str] = {}
    by: dict[int, list[dict]] = {}
    for r in recs:
        by.setdefault(r["gid"], []).append(r)
        if r.get("qkey") is not None and r["gid"] & (1 << (nk - 1)) == 0:
            labels[r["qkey"]] = r["qlabel"] or ""

    def gid_of(*present: str) -> int:  # GROUPING() bit is 1 for keys rolled up
        g = 0
        for i, k in enumerate(keys):
            if k not in present:
                g |= 1 << (nk - 1 - i)
        return g

    qkeys = set(labels)
    for q in p.values("queue"):  # a filtered queue is shown even without data
        if q not in qkeys and q not in labels.values():
            known = con.execute("SELECT id, name FROM queues WHERE id = ? OR name = ?",
                                [q, q]).fetchall()
            for qid, name in known:
                labels.setdefault(qid, name or qid)
    order = sorted(labels, key=lambda k: (k == "", (labels[k] or "").lower(), k))
    title = defn.table_title[1] if it else defn.table_title[0]
    charts: list[dict] = []
    raws: list[RawTable] = []
    if defn.grouping == "queue":
        facts: dict = {}
        for r in by.get(gid_of("qkey"), []):
            cm.put(facts, r["qkey"], r["block"], r, FIELDS)
        rows_ = [RowSpec(k, labels[k], 0) for k in order]
        raws.append(RawTable("queues", title, rows_, facts,
                             row_header="Coda" if it else "Queue"))
        allb: dict = {}
        for fs in facts.values():
            for b, v in fs.items():
                allb.setdefault(b, {})
                for f, x in v.items():
                    allb[b][f] = allb[b].get(f, 0) + x
        by_dow = _slots(by.get(gid_of("dow"), []), "dow")
        by_hr = _slots(by.get(gid_of("hr"), []), "hr")
        charts = [cm.pie("answered_pie", "Risposte / non risposte" if it else
                         "Answered / unanswered", allb),
                  cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                "By weekday", cm.weekday_x(lang), by_dow, list(range(7))),
                  cm.slot_chart("by_hour", "Per ora" if it else "By hour", cm.hour_x(), by_hr,
                                list(range(24)))]
        return raws, charts
    days = cm.days_between(d_from, d_to)
    for qk in order:
        facts = {}
        qt = f"{title} {'coda' if it else 'queue'}: {labels[qk]}"
        if defn.grouping == "queue_date":
            for r in by.get(gid_of("qkey", "day"), []):
                if r["qkey"] == qk:
                    cm.put(facts, r["day"].isoformat(), r["block"], r, FIELDS)
            rows_ = [RowSpec(d.isoformat(), fmt.day_label(d), 0) for d in days]
            by_dow = _slots([r for r in by.get(gid_of("qkey", "dow"), []) if r["qkey"] == qk],
                            "dow")
            tcharts = [cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                     "By weekday", cm.weekday_x(lang), by_dow, list(range(7)))]
            rh = "Data" if it else "Date"
        else:
            for r in by.get(gid_of("qkey", "hr"), []):
                if r["qkey"] == qk:
                    cm.put(facts, str(r["hr"]), r["block"], r, FIELDS)
            rows_ = [RowSpec(str(h), fmt.hour_label(h), 0) for h in range(24)]
            tcharts = []
            rh = "Ora" if it else "Hour"
        raws.append(RawTable(qk, qt, rows_, facts, charts=tcharts, row_header=rh))
    return raws, charts


def _slots(recs: list[dict], key: str) -> dict:
    out: dict = {}
    for r in recs:
        cm.put(out, r[key], r["block"], r, FIELDS)
    return out


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


def _metrics_for(code: str):
    return _answered_metrics(code) if cm.is_answered(code) else _unanswered_metrics(code)


KPI_DOC = {
    "sl": "Service level % = visits answered within T s of entering the queue / (answered "
          "visits + abandoned visits that waited at least S s). T = setting service_level_s "
          "(default 20), S = short_abandon_s (default 5); abandoned = CANCELED. Timeouts "
          "(NOANSWER) and join-empty visits are outside the denominator (anchors §2.1 default).",
    "sl_ans": "Service level of answered % = answered within T s / answered visits.",
    "asa": "ASA (average speed of answer) = Σ (answer − queue entry) of answered visits / "
           "answered visits, floored to whole seconds (anchors §2.2).",
    "ab_rate": "Abandonment rate % = visits abandoned (CANCELED) after at least S s / (visits "
               "− never queued (QUEUE_JOINEMPTY, FULL, CLOSED) − short abandons).",
    "short": "Short abandons = visits abandoned (CANCELED) in less than S s; excluded from the "
             "service level and abandonment rate.",
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
    BlockGroups(cm.BLOCK_ORDER, _metrics_for, cm.CAUSE_LABELS),
    KPI_GROUP,
)

SUMMARY = (
    SummaryField("n", "quantity", "quantità", cm.QTY),
    SummaryField("tot", "total time", "tempo totale", M("tot", "", "", _DUR, field="tot")),
    SummaryField("talk", "talk time", "tempo di conversazione",
                 M("talk", "", "", _DUR, field="talk")),
    SummaryField("avg_tot", "avg total time", "media tempo totale",
                 M("avg_tot", "", "", _DUR, "avg", "tot")),
    SummaryField("avg_queuing", "avg queuing time", "media tempo accodamento",
                 M("q", "", "", _DUR, "avg", "queuing")),
    SummaryField("avg_wait", "avg wait", "media tempo attesa",
                 M("w", "", "", _DUR, "avg", "notalk")),
    SummaryField("avg_resp", "avg operator response", "media tempo risposta operatore",
                 M("r", "", "", _DUR, "avg", "resp")),
    SummaryField("avg_talk", "avg talk time", "media tempo conversazione",
                 M("t", "", "", _DUR, "avg", "talk")),
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

_Q_FILTERS = ("status", "exit_cause", "queue", "empty_queue")

register(ReportDef(
    id="cdr.queues", en="Queue report", it="Voip Report Cdr Code", source="CDR queue visit",
    family="queue", grouping="queue", grouping_doc="one table; one row per queue",
    filters=_Q_FILTERS, layout=LAYOUT, summary=SUMMARY, definitions=DEFINITIONS,
    charts_doc="report charts: `answered_pie` (answered vs unanswered), `by_weekday` and "
               "`by_hour` (total column, answered and unanswered lines; Sunday first); a mini "
               "pie (answered vs unanswered) before each queue name in the web table.",
    options={"row_pie": ("answered.n", "unanswered.n")}))

register(ReportDef(
    id="cdr.queues_by_date", en="Queue report by date", it="Voip Report Cdr Code per Data",
    source="CDR queue visit", family="queue", grouping="queue_date",
    grouping_doc="one table per queue; one row per day of the range (every day listed)",
    filters=_Q_FILTERS, layout=LAYOUT, summary=SUMMARY, definitions=DEFINITIONS,
    charts_doc="per table: `by_weekday` (total, answered, unanswered; Sunday first)."))

register(ReportDef(
    id="cdr.queues_by_hour", en="Queue report by hour", it="Voip Report Cdr Code per Ora",
    source="CDR queue visit", family="queue", grouping="queue_hour",
    grouping_doc="one table per queue; 24 rows 00:00-23:00",
    filters=_Q_FILTERS, layout=LAYOUT, summary=SUMMARY, definitions=DEFINITIONS,
    charts_doc="none (tables only)."))
