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

from datetime import date

from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import BlockGroups, Group, ReportDef, SummaryField, in_set, register
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

FIELDS = ("n", "worked", "talk", "ring", "resp")
NO_ACCOUNT = "\x00"  # the key of the pseudo account row of legs with no account

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
  {orig}
)
SELECT {keys}, max(op_name) AS op_name, {block} AS block,
  {gid} AS gid, sum(n) AS n, sum(worked) AS worked, sum(talk) AS talk, sum(ring) AS ring,
  sum(resp) AS resp
FROM legs WHERE 1 = 1 {leg_where} {block_where}
GROUP BY GROUPING SETS ({sets})
"""

_ORIG = """UNION ALL
  SELECT a.extension AS op, NULL AS op_name, g.account, g.block,
    g.exit_cause, g.dir_block, g.dow, g.hr, count(*) AS n, sum(g.worked_s) AS worked,
    sum(g.talk_s) AS talk, sum(g.ring_s) AS ring, sum(g.resp_s) AS resp
  FROM agent_legs g JOIN accounts a ON a.tenant = g.tenant AND a.account = g.account
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'orig' {call_where}
  GROUP BY a.extension, g.account, g.block, g.exit_cause, g.dir_block, g.dow, g.hr"""

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

# grouping -> (keys, sets, include originated legs, block expression)
GROUPINGS = {
    "queue_operator_account": (("qkey", "op", "account"), "(qkey, op, account, block)", False,
                               "block"),
    "operator": (("op", "dow", "hr"), "(op, block), (dow, block), (hr, block)", True, "block"),
    "operator_account": (("op", "account"), "(op, account, dir_block)", True, "dir_block"),
}


def query(defn: ReportDef, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    keys, sets, with_orig, block = GROUPINGS[defn.grouping]
    cw = flt.Where()
    flt.call_filters(cw, p, "g")
    causes = flt.cause_codes(p.values("exit_cause"))
    if defn.grouping == "queue_operator_account":
        lw = flt.Where()
        if not p.flag("empty_queue"):
            lw.add("g.qkey <> ''")
        lw.any_of(["g.extension"], p.values("operator"))
        lw.any_of(["g.account"], p.values("account"))
        lw.any_of(["g.exit_cause", "g.block"], causes)
        qw = flt.Where()
        qw.any_of(["g.qkey", _QLABEL], p.values("queue"))
        sql = SQL_QUEUE.format(call_where=cw.sql(), leg_where=lw.sql(), qlabel=_QLABEL,
                               label_where=qw.sql())
        return sql, [d_from.isoformat(), d_to.isoformat(), *cw.args, *lw.args, *qw.args]
    lw = flt.Where()
    lw.any_of(["op"], p.values("operator"))
    lw.any_of(["account"], p.values("account"))
    lw.any_of(["exit_cause", "block"], causes)
    sql = SQL.format(call_where=cw.sql(),
                     orig=_ORIG.format(call_where=cw.sql()) if with_orig else "",
                     leg_where=lw.sql(), keys=", ".join(keys), block=block,
                     gid="GROUPING(" + ", ".join(keys) + ")", sets=sets,
                     block_where="AND dir_block IS NOT NULL" if block == "dir_block" else "")
    rng = [d_from.isoformat(), d_to.isoformat(), *cw.args]
    return sql, [*rng, *(rng if with_orig else []), *lw.args]


def _op_label(op: str, name: str | None) -> str:
    return f"{op} ({name})" if name and name != op else op


def build(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    sql, args = query(defn, p, d_from, d_to)
    cols, rows = cm.fetch(con, sql, args)
    keys = GROUPINGS[defn.grouping][0]
    nk = len(keys)
    it = p.lang == "it"
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    ops: dict[str, str | None] = {}
    # ordered, so that with several tenants the same name wins on every engine
    dirnames = cm.operator_names(con, p.tenant)
    for r in recs:
        if r.get("op") is not None:
            ops.setdefault(r["op"], r["op_name"])
    for o in p.values("operator"):
        ops.setdefault(o, None)

    def label(op: str) -> str:
        return _op_label(op, dirnames.get(op) or ops.get(op))

    def gid_of(*present: str) -> int:
        g = 0
        for i, k in enumerate(keys):
            if k not in present:
                g |= 1 << (nk - 1 - i)
        return g

    op_order = sorted(ops, key=lambda o: (len(o), o))
    title = defn.table_title[1] if it else defn.table_title[0]
    if defn.grouping == "operator":
        facts: dict = {}
        for r in recs:
            if r["gid"] == gid_of("op"):
                cm.put(facts, r["op"], r["block"], r, FIELDS)
        table = RawTable("operators", title, [RowSpec(o, label(o)) for o in op_order], facts,
                         row_header="Operatore" if it else "Operator")
        slots: dict[str, dict] = {"dow": {}, "hr": {}}
        allb: dict = {}
        for r in recs:
            if r["gid"] == gid_of("dow"):
                cm.put(slots["dow"], r["dow"], r["block"], r, FIELDS)
            elif r["gid"] == gid_of("hr"):
                cm.put(slots["hr"], r["hr"], r["block"], r, FIELDS)
            elif r["gid"] == gid_of("op"):
                cm.put(allb, "all", r["block"], r, FIELDS)
        charts = [cm.pie("answered_pie", "Risposte / non risposte" if it else
                         "Answered / unanswered", allb.get("all", {})),
                  cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                "By weekday", cm.weekday_x(p.lang), slots["dow"],
                                list(range(7))),
                  cm.slot_chart("by_hour", "Per ora" if it else "By hour", cm.hour_x(),
                                slots["hr"], list(range(24)))]
        return [table], charts

    accounts = cm.operator_accounts(con, p.tenant)
    acc_filter = set(p.values("account"))

    def op_rows(op: str, facts_of: dict) -> list[RowSpec]:
        seen = [a for a in accounts.get(op, []) if not acc_filter or a in acc_filter]
        for (o, a) in facts_of:
            if o == op and a not in seen:
                seen.append(a)
        children = [RowSpec(f"{op}\x1f{a}", _acc_label(a, it), 1) for a in seen]
        return [RowSpec(op, label(op), 0, children=[c.key for c in children]), *children]

    if defn.grouping == "operator_account":
        facts_of: dict = {}
        for r in recs:
            cm.put(facts_of, (r["op"], r["account"] or NO_ACCOUNT), r["block"], r, FIELDS)
        rows_ = [x for o in op_order for x in op_rows(o, facts_of)]
        facts = {f"{o}\x1f{a}": v for (o, a), v in facts_of.items()}
        return [RawTable("operator_accounts", "Numero chiamate gestite e Tempo di Lavoro" if it
                         else "Calls handled and time worked", rows_, facts,
                         row_header="Operatore" if it else "Operator")], []

    # queue_operator_account: one table per queue
    queues: dict[str, str] = {}
    per_q: dict[str, dict] = {}
    for r in recs:
        queues.setdefault(r["qkey"], r["qlabel"] or "")
        cm.put(per_q.setdefault(r["qkey"], {}), (r["op"], r["account"] or NO_ACCOUNT),
               r["block"], r, FIELDS)
    raws = []
    for qk in sorted(queues, key=lambda k: (k == "", queues[k].lower(), k)):
        facts_of = per_q[qk]
        q_ops = sorted({o for o, _a in facts_of}, key=lambda o: (len(o), o))
        rows_ = [x for o in q_ops for x in op_rows(o, facts_of)]
        facts = {f"{o}\x1f{a}": v for (o, a), v in facts_of.items()}
        raws.append(RawTable(qk, f"{title} {'coda' if it else 'queue'}: {queues[qk]}", rows_,
                             facts, row_header="Operatore" if it else "Operator"))
    return raws, []


def _acc_label(a: str, it: bool) -> str:
    if a == NO_ACCOUNT:
        return "(nessun account)" if it else "(no account)"
    return a


# ----------------------------------------------------------------------------- definitions

_D = "duration"
RING_AVG = M("avg_ring", "avg ring time", "media tempo squillo", _D, "avg", "ring")


def _r3_metrics(code: str):
    if cm.is_answered(code):  # order A (detail pages, errata R22)
        return (cm.QTY,
                M("worked", "time worked", "tempo lavorato", _D, field="worked"),
                M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
                M("talk", "talk time", "tempo conversazione", _D, field="talk"),
                M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
                RING_AVG,
                M("avg_resp", "avg response time", "media tempo risposta", _D, "avg", "resp"))
    return (cm.QTY, RING_AVG)


def _r14_metrics(code: str):
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


_LEG_LABELS = {**cm.CAUSE_LABELS, "TRASFERIMENTO": ("TRANSFER (attended)", "TRASFERIMENTO")}

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
    BlockGroups(cm.BLOCK_ORDER, _r3_metrics, _LEG_LABELS),
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
    BlockGroups(cm.BLOCK_ORDER, _r14_metrics, _LEG_LABELS),
)

LEG_SUMMARY = (
    SummaryField("n", "quantity", "quantità", cm.QTY),
    SummaryField("tot", "total time", "tempo totale", M("w", "", "", _D, field="worked")),
    SummaryField("talk", "talk time", "tempo di conversazione", M("t", "", "", _D, field="talk")),
    SummaryField("avg_tot", "avg total time", "media tempo totale",
                 M("aw", "", "", _D, "avg", "worked")),
    SummaryField("avg_ring", "avg ring time", "media tempo squillo", RING_AVG),
    SummaryField("avg_resp", "avg response time", "media tempo risposta",
                 M("ar", "", "", _D, "avg", "resp")),
    SummaryField("avg_talk", "avg talk time", "media tempo conversazione",
                 M("at", "", "", _D, "avg", "talk")),
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

register(ReportDef(
    id="cdr.queue_operators", en="Queue operators report",
    it="Voip Report Cdr Code con Dettaglio Operatori Account", source="operator leg (queue)",
    family="operator", grouping="queue_operator_account",
    grouping_doc="one table per queue; rows: operator, then its accounts",
    filters=("status", "exit_cause", "queue", "operator", "account", "empty_queue"),
    layout=R3_LAYOUT, summary=LEG_SUMMARY, definitions=LEG_DEFINITIONS, charts_doc="none."))

register(ReportDef(
    id="cdr.operators", en="Operators report", it="Voip Report Cdr Operatori",
    source="operator leg", family="operator", grouping="operator",
    grouping_doc="one table; one row per operator",
    filters=("status", "exit_cause", "operator", "source", "destination"),
    layout=R14_LAYOUT, summary=LEG_SUMMARY, definitions=LEG_DEFINITIONS,
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (total column, answered "
               "and unanswered lines)."))

register(ReportDef(
    id="cdr.operator_accounts", en="Operators account report",
    it="Voip Report Cdr Operatori Account", source="operator leg", family="operator",
    grouping="operator_account", grouping_doc="one table; rows: operator, then its accounts",
    filters=("status", "exit_cause", "operator", "account", "source", "destination"),
    layout=R15_LAYOUT, summary=(
        SummaryField("worked", "total time worked", "tempo totale lavorato",
                     M("w", "", "", _D, field="worked")),),
    definitions=(
        *LEG_DEFINITIONS,
        ("ingresso", "answered received legs of incoming calls; worked = talk."),
        ("uscita", "originated outgoing calls; OK = status OK, KO = the rest; worked = "
                   "duration."),
        ("interna", "answered received legs of internal calls; worked = talk.")),
    charts_doc="none."))
