"""The operator-leg family: R3 (queue tables x operator -> account), R14 (by operator),
R15 (operator -> account, worked time by direction).

An operator leg is either
- a *received* leg: a CDR detail line of type `local_exten` (dest_id = the extension, answered_by
  = the SIP account that answered); it belongs to the queue visit of the nearest preceding
  `queue` line of the same call when it starts inside that visit's [enter, exit] window and has
  the visit's caller as source (transfer targets have the operator as source); or
- an *originated* leg: a call whose src_peer_name is an operator's SIP account, direction
  outgoing or internal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pbxlens.reports import calendars, drilldown, scaffold
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import (
    BlockGroups,
    Built,
    Group,
    Report,
    SummaryField,
    in_set,
    register_report,
)
from pbxlens.reports.common import Grouping, M
from pbxlens.reports.engine import RawTable, RowSpec

FIELDS = ("n", "worked", "talk", "ring", "resp")

# Reads the derived table agent_legs (one row per operator leg, blocks and C17/C19 times
# precomputed at ingest by pbxlens.ingest.derive, the ring leg -> queue visit association
# included): no join to call_legs, no window function. Originated candidates become operator
# legs by joining the (small) accounts table; queue names come from the directory. Legs are
# summed per finest key inside the CTE, so that the hourly rollup can answer the same query
# (pbxlens.scale.rollups).
SQL = """
WITH legs AS (
  SELECT g.extension AS op, max(g.op_name) AS op_name, g.account, g.block,
    g.exit_cause, g.dir_block, g.dow, g.hr, count(*) AS n, sum(g.worked_s) AS worked,
    sum(g.talk_s) AS talk, sum(g.ring_s) AS ring, sum(g.resp_s) AS resp
  FROM agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'recv' {call_where}
  GROUP BY g.extension, g.account, g.block, g.exit_cause, g.dir_block, g.dow, g.hr
  UNION ALL
  SELECT a.extension AS op, NULL AS op_name, g.account, g.block,
    g.exit_cause, g.dir_block, g.dow, g.hr, count(*) AS n, sum(g.worked_s) AS worked,
    sum(g.talk_s) AS talk, sum(g.ring_s) AS ring, sum(g.resp_s) AS resp
  FROM agent_legs g JOIN accounts a ON a.tenant = g.tenant AND a.account = g.account
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'orig' {call_where}
  GROUP BY a.extension, g.account, g.block, g.exit_cause, g.dir_block, g.dow, g.hr
)
SELECT {keys}, max(op_name) AS op_name, {block} AS block,
  {gid} AS gid, sum(n) AS n, sum(worked) AS worked, sum(talk) AS talk, sum(ring) AS ring,
  sum(resp) AS resp
FROM legs WHERE 1 = 1 {leg_where} {block_where}
GROUP BY GROUPING SETS ({sets})
"""

# R3 (queue legs only): the legs of the range are first summed per queue identity, operator,
# account and block, so that the directory's queue names are joined on those sums, not per leg.
SQL_QUEUE = """
WITH g AS (
  SELECT g.tenant, g.queue_id, g.queue_name, g.qkey, g.extension AS op, g.account, g.block,
    max(g.op_name) AS op_name, count(*) AS n, sum(g.worked_s) AS worked,
    sum(g.talk_s) AS talk, sum(g.ring_s) AS ring, sum(g.resp_s) AS resp
  FROM agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'recv'
    AND g.qkey IS NOT NULL {call_where} {leg_where}
  GROUP BY g.tenant, g.queue_id, g.queue_name, g.qkey, g.extension, g.account, g.block
), l AS (
  SELECT g.*, {qlabel} AS qlabel
  FROM g
  LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.queue_id
  WHERE 1 = 1 {label_where}
)
SELECT qkey, op, account, max(op_name) AS op_name, max(qlabel) AS qlabel, block,
  GROUPING(qkey, op, account) AS gid, sum(n) AS n, sum(worked) AS worked, sum(talk) AS talk,
  sum(ring) AS ring, sum(resp) AS resp
FROM l
GROUP BY GROUPING SETS ((qkey, op, account, block))
"""

_QLABEL = "coalesce(qq.name, nullif(g.queue_name, ''), g.queue_id, '')"


@dataclass(frozen=True)
class LegGrouping(Grouping):
    """A grouping of the operator-leg query and the column that makes its blocks: the
    exit-cause block, or the direction block of R15."""

    block: str = "block"


BY_OPERATOR = LegGrouping(("op", "dow", "hr"), "(op, block), (dow, block), (hr, block)")
BY_OPERATOR_ACCOUNT = LegGrouping(("op", "account"), "(op, account, dir_block)",
                                  block="dir_block")


def leg_call_where(p: flt.Params, d_from: date, d_to: date) -> flt.Where:
    """The filters on the call of a leg of `agent_legs g` (tenant, status, numbers, opening
    hours of the leg's queue, else its tenant's)."""
    cw = flt.Where()
    flt.call_filters(cw, p, "g")
    calendars.hours_where(cw, p, calendars.Clock("g", qkey="g.qkey"), d_from, d_to)
    return cw


def query(g: LegGrouping, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R14 / R15: received and originated legs by operator."""
    cw = leg_call_where(p, d_from, d_to)
    lw = flt.Where()
    lw.any_of(["op"], p.values("operator"))
    lw.any_of(["account"], p.values("account"))
    lw.any_of(["exit_cause", "block"], flt.cause_codes(p.values("exit_cause")))
    sql = SQL.format(call_where=cw.sql(), leg_where=lw.sql(), keys=g.columns, block=g.block,
                     gid=g.gid, sets=g.sets,
                     block_where="AND dir_block IS NOT NULL" if g.block == "dir_block" else "")
    rng = [d_from.isoformat(), d_to.isoformat(), *cw.args]
    return sql, [*rng, *rng, *lw.args]


def queue_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R3: the queue legs by queue, operator and account."""
    cw = leg_call_where(p, d_from, d_to)
    lw = flt.Where()
    if not p.flag("empty_queue"):
        lw.add("g.qkey <> ''")
    lw.any_of(["g.extension"], p.values("operator"))
    lw.any_of(["g.account"], p.values("account"))
    lw.any_of(["g.exit_cause", "g.block"], flt.cause_codes(p.values("exit_cause")))
    qw = flt.Where()
    qw.any_of(["g.qkey", _QLABEL], p.values("queue"))
    sql = SQL_QUEUE.format(call_where=cw.sql(), leg_where=lw.sql(), qlabel=_QLABEL,
                           label_where=qw.sql())
    return sql, [d_from.isoformat(), d_to.isoformat(), *cw.args, *lw.args, *qw.args]


# The legs behind the cells (drill-down): the same legs, filters and blocks as the reports.
_LEG_COLS = ("g.tenant, g.unique_id, g.leg_branch, g.seq, {op} AS op, g.account, g.block, "
             "g.exit_cause, g.dir_block, g.day, g.dow, g.hr, g.qkey, g.ring_s, g.talk_s, "
             "g.worked_s")
FACTS_SQL = f"""
SELECT * FROM (
  SELECT {_LEG_COLS.format(op="g.extension")} FROM agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'recv' {{cw}}
  UNION ALL
  SELECT {_LEG_COLS.format(op="a.extension")}
  FROM agent_legs g JOIN accounts a ON a.tenant = g.tenant AND a.account = g.account
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'orig' {{cw}}
) legs WHERE 1 = 1 {{lw}}
"""  # noqa: S608 -- names and SQL fragments from code; values bound


def facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R14: received and originated legs (as `query`)."""
    cw = leg_call_where(p, d_from, d_to)
    lw = flt.Where()
    lw.any_of(["op"], p.values("operator"))
    lw.any_of(["account"], p.values("account"))
    lw.any_of(["exit_cause", "block"], flt.cause_codes(p.values("exit_cause")))
    rng = [d_from.isoformat(), d_to.isoformat(), *cw.args]
    return FACTS_SQL.format(cw=cw.sql(), lw=lw.sql()), [*rng, *rng, *lw.args]


def dir_facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R15: the same legs, blocks by direction."""
    sql, args = facts_query(p, d_from, d_to)
    return (f"SELECT * REPLACE (dir_block AS block) FROM ({sql}) x WHERE dir_block IS NOT NULL",  # noqa: S608 -- names and SQL fragments from code; values bound
            args)


def queue_facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """R3: the queue legs (as `queue_query`)."""
    cw = leg_call_where(p, d_from, d_to)
    lw = flt.Where()
    if not p.flag("empty_queue"):
        lw.add("g.qkey <> ''")
    lw.any_of(["g.extension"], p.values("operator"))
    lw.any_of(["g.account"], p.values("account"))
    lw.any_of(["g.exit_cause", "g.block"], flt.cause_codes(p.values("exit_cause")))
    qw = flt.Where()
    qw.any_of(["g.qkey", _QLABEL], p.values("queue"))
    sql = f"""
SELECT {_LEG_COLS.format(op="g.extension")}, {_QLABEL} AS queue
FROM (SELECT g.* FROM agent_legs g
      WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'recv'
        AND g.qkey IS NOT NULL {cw.sql()} {lw.sql()}) g
LEFT JOIN queues qq ON qq.tenant = g.tenant AND qq.id = g.queue_id
WHERE 1 = 1 {qw.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [d_from.isoformat(), d_to.isoformat(), *cw.args, *lw.args, *qw.args]


LEG_EXTRA = (("op", "operator", "operatore", "text"), ("account", "account", "account", "text"),
             ("ring_s", "ring", "squillo", "duration"), ("talk_s", "talk", "conversazione",
                                                         "duration"))
FACTS = drilldown.Facts(facts_query, row="op", extra=LEG_EXTRA, order="seq")
FACTS_ACCOUNTS = drilldown.Facts(dir_facts_query, accounts=True, extra=LEG_EXTRA, order="seq")
FACTS_QUEUE = drilldown.Facts(queue_facts_query, table="qkey", accounts=True,
                              extra=(("queue", "queue", "coda", "text"), *LEG_EXTRA),
                              order="seq")


def _operators(con, recs: list[dict], p: flt.Params):
    """The operators of the rows and of the operator filter, in display order, and their row
    label (the directory's name, else the one the data carried)."""
    ops: dict[str, str | None] = {}
    for r in recs:
        if r.get("op") is not None:
            ops.setdefault(r["op"], r["op_name"])
    for o in p.values("operator"):
        ops.setdefault(o, None)
    # ordered, so that with several tenants the same name wins on every engine
    label = scaffold.by_operator_label(cm.operator_names(con, p.tenant), ops)
    return scaffold.operator_order(ops), label


def by_operator(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.operators (R14): one row per operator, and the chart trio."""
    sets = cm.GroupingSets(BY_OPERATOR.keys,
                           cm.records(con, *query(BY_OPERATOR, p, d_from, d_to)))
    order, label = _operators(con, sets.rows, p)
    facts = cm.facts_by(sets.of("op"), lambda r: r["op"], FIELDS)
    table = RawTable("operators", defn.text(defn.table_title, p.lang),
                     [RowSpec(o, label(o)) for o in order], facts,
                     row_header=cm.tr(p.lang, "Operator", "Operatore"))
    return [table], scaffold.chart_trio(
        p.lang, facts, cm.facts_by(sets.of("dow"), lambda r: r["dow"], FIELDS),
        cm.facts_by(sets.of("hr"), lambda r: r["hr"], FIELDS))


def by_operator_account(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.operator_accounts (R15): operator, then its accounts; time worked by direction."""
    recs = cm.records(con, *query(BY_OPERATOR_ACCOUNT, p, d_from, d_to))
    order, label = _operators(con, recs, p)
    facts_of: dict = {}
    for r in recs:
        cm.put(facts_of, (r["op"], r["account"] or scaffold.NO_ACCOUNT), r["block"], r, FIELDS)
    rows, facts = scaffold.operator_rows(order, label, facts_of,
                                         cm.operator_accounts(con, p.tenant), p.lang,
                                         only=set(p.values("account")))
    return [RawTable("operator_accounts", cm.tr(p.lang, "Calls handled and time worked",
                                                "Numero chiamate gestite e Tempo di Lavoro"),
                     rows, facts, row_header=cm.tr(p.lang, "Operator", "Operatore"))], []


def by_queue_operator(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.queue_operators (R3): per queue, operator then its accounts."""
    recs = cm.records(con, *queue_query(p, d_from, d_to))
    _order, label = _operators(con, recs, p)
    accounts = cm.operator_accounts(con, p.tenant)
    queues: dict[str, str] = {}
    per_q: dict[str, dict] = {}
    for r in recs:
        queues.setdefault(r["qkey"], r["qlabel"] or "")
        cm.put(per_q.setdefault(r["qkey"], {}), (r["op"], r["account"] or scaffold.NO_ACCOUNT),
               r["block"], r, FIELDS)
    title = defn.text(defn.table_title, p.lang)
    raws = []
    for qk in sorted(queues, key=lambda k: (k == "", queues[k].lower(), k)):
        facts_of = per_q[qk]
        rows, facts = scaffold.operator_rows(
            scaffold.operator_order({o for o, _a in facts_of}), label, facts_of, accounts,
            p.lang, only=set(p.values("account")))
        raws.append(RawTable(qk, scaffold.per_entity_title(title, p.lang, ("queue", "coda"),
                                                           queues[qk]),
                             rows, facts, row_header=cm.tr(p.lang, "Operator", "Operatore")))
    return raws, []


# ----------------------------------------------------------------------------- definitions

_D = "duration"
RING_AVG = M("avg_ring", "avg ring time", "media tempo squillo", _D, "avg", "ring")


def leg_metrics_detail(code: str):
    """An exit-cause group of the queue / detail tables (R3, R17, R22)."""
    if cm.is_answered(code):  # order A (detail pages, errata R22)
        return (cm.QTY,
                M("worked", "time worked", "tempo lavorato", _D, field="worked"),
                M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
                M("talk", "talk time", "tempo conversazione", _D, field="talk"),
                M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
                RING_AVG,
                M("avg_resp", "avg response time", "media tempo risposta", _D, "avg", "resp"))
    return (cm.QTY, RING_AVG)


def leg_metrics_summary(code: str):
    """An exit-cause group of the summary tables (R14, R16, R21)."""
    if cm.is_answered(code):  # order B (summary pages)
        return (cm.QTY,
                M("worked", "time worked", "tempo lavorato", _D, field="worked"),
                M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
                M("talk", "talk time", "tempo conversazione", _D, field="talk"),
                RING_AVG,
                M("avg_resp", "avg response time", "media tempo risposta", _D, "avg", "resp"),
                M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"))
    return (cm.QTY,
            M("worked", "time worked", "tempo lavorato", _D, field="worked"),
            M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"))


LEG_LABELS = {**cm.CAUSE_LABELS, "TRASFERIMENTO": ("TRANSFER (attended)", "TRASFERIMENTO")}

R3_LAYOUT = (
    Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
    Group("answered", "ANSWERED", "RISPOSTE", (
        cm.QTY,
        M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
        M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
        RING_AVG,
        M("avg_resp", "avg response time", "media tempo risposta", _D, "avg", "resp"),
    ), blocks=cm.is_answered),
    Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,), blocks=cm.is_unanswered),
    BlockGroups(cm.BLOCK_ORDER, leg_metrics_detail, LEG_LABELS),
)

R14_LAYOUT = (
    Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
    Group("answered", "ANSWERED", "RISPOSTE", (
        cm.QTY,
        M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
        RING_AVG,
        M("avg_wait", "avg wait", "media tempo attesa", _D, "avg", "resp"),
        M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
    ), blocks=cm.is_answered),
    Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,), blocks=cm.is_unanswered),
    BlockGroups(cm.BLOCK_ORDER, leg_metrics_summary, LEG_LABELS),
)

LEG_SUMMARY = (
    cm.SUMMARY_QTY,
    cm.summary_total("tot", "total time", "tempo totale", "worked"),
    cm.summary_total("talk", "talk time", "tempo di conversazione", "talk"),
    cm.summary_avg("avg_tot", "avg total time", "media tempo totale", "worked"),
    SummaryField("avg_ring", "avg ring time", "media tempo squillo", RING_AVG),
    cm.summary_avg("avg_resp", "avg response time", "media tempo risposta", "resp"),
    cm.summary_avg("avg_talk", "avg talk time", "media tempo conversazione", "talk"),
)

_IN, _INT = in_set(("IN",)), in_set(("INT",))
_OUT, _OK, _KO = in_set(("OUT_OK", "OUT_KO")), in_set(("OUT_OK",)), in_set(("OUT_KO",))

R15_LAYOUT = (
    Group("worked_total", "TOTAL TIME WORKED", "TEMPO TOTALE LAVORATO",
          (M("worked_total", "total time worked", "tempo totale lavorato", _D, field="worked"),)),
    Group("in", "INCOMING", "INGRESSO", (
        cm.QTY,
        M("worked", "time worked", "tempo lavorato", _D, field="worked"),
        M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
        M("avg_resp", "avg response time", "media tempo risposta", _D, "avg", "resp"),
    ), blocks=_IN),
    Group("out", "OUTGOING", "USCITA", (
        cm.QTY,
        M("worked", "time worked", "tempo lavorato", _D, field="worked"),
        M("n_ok", "quantity OK", "quantità OK", blocks=_OK),
        M("avg_worked_ok", "avg time worked OK", "media tempo lavorato OK", _D, "avg", "worked",
          blocks=_OK),
        M("n_ko", "quantity KO", "quantità KO", blocks=_KO),
        M("avg_worked_ko", "avg time worked KO", "media tempo lavorato KO", _D, "avg", "worked",
          blocks=_KO),
    ), blocks=_OUT),
    Group("int", "INTERNAL", "INTERNA", (
        cm.QTY,
        M("worked", "time worked", "tempo lavorato", _D, field="worked"),
        M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
    ), blocks=_INT),
)

LEG_DEFINITIONS = (
    ("grain", "One row per operator ring attempt (leg), not per call (C4, errata R3)."),
    ("received leg", "CDR detail line of type local_exten; the operator is its extension, the "
                     "account its answered_by. It belongs to a queue visit when the nearest "
                     "preceding queue line of the call has the same source and the leg starts "
                     "within [enter, exit] of the visit."),
    ("originated leg", "R14/R15: a call whose src_peer_name is an operator account (outgoing or "
                       "internal); block ANSWER if status OK, else the status."),
    ("exit-cause blocks", "NCC; TRANSFER = BLINDXFER; TRASFERIMENTO = ATXFER (C15); "
                          "ANSWERED ELSEWHERE; TIMEOUT = NOANSWER on a queue ring leg; "
                          "REFUSED = DECLINED; FORWARD = UFWD/CFWD2MOBILE/FASTXFER2MOBILE (C16); "
                          "others as the PBX writes them. Answered: NCC-AGENT, NCC-CALLER, NCC, "
                          "ANSWER, TRANSFER, TRASFERIMENTO."),
    ("no account", "Unanswered received legs carry no SIP account in the CDR: they are shown "
                   "on a '(no account)' row under the operator, so the operator row stays the "
                   "sum of its account rows."),
    ("tempo lavorato", "answered received legs: talk; originated legs: duration (end − start); "
                       "ANSWERED ELSEWHERE / REFUSED / TIMEOUT: 0; other unanswered legs: "
                       "exit − enter (C17)."),
    ("tempo squillo", "(answer, else exit) − leg enter (C19)."),
    ("tempo risposta / attesa", "answered legs: answer − arrival (queue entry for queue legs, "
                                "leg enter otherwise; call start for originated); 0 otherwise "
                                "(C19). Header averages divide by the table quantity."),
    ("tempo conversazione", "answered legs: exit − answer (originated: end − answer)."),
    ("operator rows", "An operator row is the sum of its account rows, which are listed even "
                      "without data (§0.5 rule 8)."),
)

register_report(Report(
    id="cdr.queue_operators", en="Queue operators report",
    it="Voip Report Cdr Code con Dettaglio Operatori Account", source="operator leg (queue)",
    build=by_queue_operator, tables_doc="one table per queue; rows: operator, then its accounts",
    filters=(flt.STATUS, flt.EXIT_CAUSE, flt.QUEUE, flt.OPERATOR, flt.ACCOUNT, flt.EMPTY_QUEUE,
             calendars.HOURS),
    layout=R3_LAYOUT, summary=LEG_SUMMARY, definitions=LEG_DEFINITIONS, charts_doc="none.",
    facts=FACTS_QUEUE))

register_report(Report(
    id="cdr.operators", en="Operators report", it="Voip Report Cdr Operatori",
    source="operator leg", build=by_operator, tables_doc="one table; one row per operator",
    filters=(flt.STATUS, flt.EXIT_CAUSE, flt.OPERATOR, flt.SOURCE, flt.DESTINATION,
             calendars.HOURS),
    layout=R14_LAYOUT, summary=LEG_SUMMARY, definitions=LEG_DEFINITIONS, facts=FACTS,
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (total column, answered "
               "and unanswered lines)."))

register_report(Report(
    id="cdr.operator_accounts", en="Operators account report",
    it="Voip Report Cdr Operatori Account", source="operator leg", build=by_operator_account,
    tables_doc="one table; rows: operator, then its accounts",
    filters=(flt.STATUS, flt.EXIT_CAUSE, flt.OPERATOR, flt.ACCOUNT, flt.SOURCE,
             flt.DESTINATION, calendars.HOURS),
    layout=R15_LAYOUT, summary=(
        cm.summary_total("worked", "total time worked", "tempo totale lavorato", "worked"),),
    definitions=(
        *LEG_DEFINITIONS,
        ("ingresso", "answered received legs of incoming calls; worked = talk."),
        ("uscita", "originated outgoing calls; OK = status OK, KO = the rest; worked = "
                   "duration."),
        ("interna", "answered received legs of internal calls; worked = talk.")),
    charts_doc="none.", facts=FACTS_ACCOUNTS))
