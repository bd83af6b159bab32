"""The billing-code family: R6 (by code), R7 (per code, by date), R8 (per code, operator ->
account).

Grain: one outgoing call that carries a billing code (CDR `account_code`, C27), read from the
derived table `billing_calls` (pbxlens.ingest.derive). R6 partitions the calls by call status
(answered = OK); R7 and R8 by the exit cause of the call's external (obl) line, as the operator
reports do (answered = NCC, TRANSFER, TRASFERIMENTO ...). Time worked of an outgoing call is
its duration (C17); talk = end − answer, wait = answer − start, billing time = floor(bill_secs)
(C6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from pbxlens.models import vocabulary
from pbxlens.reports import calendars, drilldown, scaffold
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import BlockGroups, Built, Group, Report, register_report
from pbxlens.reports.common import Grouping, M
from pbxlens.reports.engine import RawTable, RowSpec

FIELDS = ("n", "dur", "bill", "talk", "wait")

# The calls of the range are summed per finest key first (no per-call join); the operator of
# R8 is resolved on those sums: the directory account of src_peer_name, else the operator whose
# extension is the caller (then on the "(no account)" row); calls of neither are not operator
# calls and are left out of R8.
SQL = """
WITH g AS (
  SELECT b.tenant, b.account_code AS code, {fine}, count(*) AS n, sum(b.dur_s) AS dur,
    sum(b.bill_s) AS bill, sum(b.talk_s) AS talk, sum(b.wait_s) AS wait
  FROM billing_calls b
  WHERE b.day >= CAST(? AS DATE) AND b.day <= CAST(? AS DATE) {where}
  GROUP BY ALL
){ops}
SELECT {keys}, block, {gid} AS gid, sum(n) AS n, sum(dur) AS dur, sum(bill) AS bill,
  sum(talk) AS talk, sum(wait) AS wait
FROM {src} WHERE 1 = 1 {op_where}
GROUP BY GROUPING SETS ({sets})
"""

_OPS = """, o AS (
  SELECT g.*, coalesce(a.extension, x.extension) AS op,
    CASE WHEN a.extension IS NOT NULL THEN g.account ELSE '' END AS acc
  FROM g
  LEFT JOIN accounts a ON a.tenant = g.tenant AND a.account = g.account
  LEFT JOIN operators x ON x.tenant = g.tenant AND x.extension = g.caller
)"""



@dataclass(frozen=True)
class CodeGrouping(Grouping):
    """A grouping of the billing-code query: the per-call columns summed first (`fine`),
    blocks by call status (R6) or by exit cause, and whether each call's operator is resolved
    (R8)."""

    fine: tuple[str, ...] = ()
    by_status: bool = False
    operators: bool = False


BY_CODE = CodeGrouping(("code", "dow", "hr"), "(code, block), (dow, block), (code, hr, block)",
                       fine=("dow", "hr"), by_status=True)
BY_CODE_DATE = CodeGrouping(("code", "day", "dow"), "(code, day, block), (code, dow, block)",
                            fine=("day", "dow"))
BY_CODE_OPERATOR = CodeGrouping(("code", "op", "acc"), "(code, op, acc, block)",
                                fine=("account", "caller"), operators=True)

_STATUS_BLOCK = "CASE WHEN b.status IN ('?', '??') THEN '?' ELSE b.status END"


def call_where(p: flt.Params, d_from: date, d_to: date) -> flt.Where:
    """The filters on `billing_calls b` (the report and its drill-down's list share them)."""
    w = flt.Where()
    flt.call_filters(w, p, "b")
    w.any_of(["b.exit_cause", "b.block"], flt.cause_codes(p.values("exit_cause")))
    calendars.hours_where(w, p, calendars.Clock("b"), d_from, d_to)
    return w


def query(g: CodeGrouping, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    w = call_where(p, d_from, d_to)
    bexpr = _STATUS_BLOCK if g.by_status else "b.block"
    fine_sql = ", ".join([f"b.{f}" for f in g.fine] + [f"{bexpr} AS block"])
    ow = flt.Where()
    if g.operators:
        ow.add("op IS NOT NULL")
        ow.any_of(["op"], p.values("operator"))
        ow.any_of(["acc"], p.values("account"))
    sql = SQL.format(fine=fine_sql, where=w.sql(), ops=_OPS if g.operators else "",
                     keys=g.columns, gid=g.gid, sets=g.sets, src="o" if g.operators else "g",
                     op_where=ow.sql())
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *ow.args]


def facts_query(g: CodeGrouping, p: flt.Params, d_from: date, d_to: date
                ) -> tuple[str, list]:
    """The calls behind the cells (drill-down): the same filters and blocks, the operator
    resolved as R8 does."""
    w = call_where(p, d_from, d_to)
    bexpr = _STATUS_BLOCK if g.by_status else "b.block"
    ow = flt.Where()
    ops, src = "", "g"
    if g.operators:
        ops, src = _OPS, "o"
        ow.add("op IS NOT NULL")
        ow.any_of(["op"], p.values("operator"))
        ow.any_of(["acc"], p.values("account"))
    sql = f"""WITH g AS (
  SELECT b.tenant, b.unique_id, b.leg_branch, b.account_code AS code, b.day, b.dow, b.hr,
    b.account, b.caller, {bexpr} AS block, b.dur_s, b.talk_s
  FROM billing_calls b
  WHERE b.day >= CAST(? AS DATE) AND b.day <= CAST(? AS DATE) {w.sql()}
){ops}
SELECT * {"REPLACE (acc AS account) " if g.operators else ""}FROM {src} WHERE 1 = 1 {ow.sql()}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *ow.args]


_EXTRA = (("code", "billing code", "codice di fatturazione", "text"),
          ("dur_s", "duration", "durata", "duration"), ("talk_s", "talk", "conversazione",
                                                        "duration"))


def _codes(recs: list[dict], p: flt.Params) -> list[str]:
    """The billing codes of the rows and of the filter (shown even without data)."""
    return sorted({r["code"] for r in recs if r.get("code") is not None} |
                  set(p.values("billing_code")), key=lambda c: (len(c), c))


def _code_title(defn: Report, lang: str, code: str) -> str:
    return scaffold.per_entity_title(defn.text(defn.table_title, lang), lang,
                                     ("billing code", "codice di fatturazione"), code)


def by_code(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.billing_codes (R6): one row per code; blocks are call statuses (answered = OK)."""
    sets = cm.GroupingSets(BY_CODE.keys, cm.records(con, *query(BY_CODE, p, d_from, d_to)))
    codes = _codes(sets.rows, p)
    facts = cm.facts_by(sets.of("code"), lambda r: r["code"], FIELDS)
    per_hr: dict = {}
    for r in sets.of("code", "hr"):
        per_hr.setdefault(r["code"], [0] * 24)[r["hr"]] += int(r["n"])
    charts = [
        scaffold.answered_pie(p.lang, cm.all_blocks(facts), answered=_ok),
        scaffold.weekday_chart(p.lang, cm.facts_by(sets.of("dow"), lambda r: r["dow"], FIELDS),
                               answered=_ok),
        {"id": "by_hour", "title": cm.tr(p.lang, "Calls by billing code by time slot",
                                         "Andamento chiamate per codice di fatturazione per "
                                         "fascia oraria"), "type": "line",
         "x": scaffold.hour_x(), "series": [{"key": c, "label": c, "kind": "line",
                                             "data": per_hr.get(c, [0] * 24)} for c in codes]},
    ]
    return [RawTable("billing_codes", defn.text(defn.table_title, p.lang),
                     [RowSpec(c, c) for c in codes], facts,
                     row_header=cm.tr(p.lang, "Billing code", "Codice di fatturazione"))], charts


def by_date(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.billing_codes_by_date (R7): per code, one row per day and its weekday chart."""
    sets = cm.GroupingSets(BY_CODE_DATE.keys,
                           cm.records(con, *query(BY_CODE_DATE, p, d_from, d_to)))
    raws = []
    for code in _codes(sets.rows, p):
        days = cm.facts_by((r for r in sets.of("code", "day") if r["code"] == code),
                           cm.by_day, FIELDS)
        dows = cm.facts_by((r for r in sets.of("code", "dow") if r["code"] == code),
                           lambda r: r["dow"], FIELDS)
        raws.append(scaffold.daily_table(code, _code_title(defn, p.lang, code), days, d_from,
                                         d_to, p.lang,
                                         charts=[scaffold.weekday_chart(p.lang, dows)]))
    return raws, []


def by_operator(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """cdr.billing_codes_operators (R8): per code, operator then its accounts (listed even
    without data)."""
    recs = cm.records(con, *query(BY_CODE_OPERATOR, p, d_from, d_to))
    label = scaffold.by_operator_label(cm.operator_names(con, p.tenant))
    accounts = cm.operator_accounts(con, p.tenant)
    per_code: dict[str, dict] = {}
    for r in recs:
        cm.put(per_code.setdefault(r["code"], {}), (r["op"], r["acc"] or scaffold.NO_ACCOUNT),
               r["block"], r, FIELDS)
    raws = []
    for code in _codes(recs, p):
        facts_of = per_code.get(code, {})
        ops = scaffold.operator_order({o for o, _a in facts_of} | set(p.values("operator")))
        rows, facts = scaffold.operator_rows(ops, label, facts_of, accounts, p.lang,
                                             only=set(p.values("account")))
        raws.append(RawTable(code, _code_title(defn, p.lang, code), rows, facts,
                             row_header=cm.tr(p.lang, "Operator", "Operatore")))
    return raws, []


def _ok(b: str) -> bool:
    return b == "OK"


# ----------------------------------------------------------------------------- definitions

_D = "duration"
_STATUS_ORDER = tuple(s.code if s.code != "??" else "?" for s in vocabulary.STATUSES)
_STATUS_LABELS = {("?" if s.code == "??" else s.code): (s.code if s.code != "??" else "?",
                                                         s.it.upper() if s.code != "OK" else "OK")
                  for s in vocabulary.STATUSES}


def _r6_metrics(code: str):
    if code == "OK":
        return (cm.QTY,
                M("dur", "duration", "durata", _D, field="dur"),
                M("avg_dur", "avg call duration", "media durata chiamata", _D, "avg", "dur"),
                M("bill", "billing time", "tempo di fatturazione", _D, field="bill"),
                M("talk", "talk time", "tempo conversazione", _D, field="talk"),
                M("avg_bill", "avg billing time", "media tempo fatturazione", _D, "avg", "bill"),
                M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
                M("avg_wait", "avg wait", "media tempo attesa", _D, "avg", "wait"))
    return (cm.QTY,
            M("dur", "duration", "durata", _D, field="dur"),
            M("avg_dur", "avg call duration", "media durata chiamata", _D, "avg", "dur"))


R6_LAYOUT = (
    Group("total", "TOTAL", "TOTALE", (
        cm.QTY,
        M("dur", "duration", "durata", _D, field="dur"),
        M("bill", "billing time", "tempo fatturazione", _D, field="bill"))),
    BlockGroups(_STATUS_ORDER, _r6_metrics, _STATUS_LABELS),
)

R6_SUMMARY = (
    cm.SUMMARY_QTY,
    cm.summary_total("dur", "total time", "tempo totale", "dur"),
    cm.summary_total("bill", "billing time", "tempo di fatturazione", "bill"),
    cm.summary_total("talk", "talk time", "tempo di conversazione", "talk"),
    cm.summary_avg("avg_dur", "avg total time", "media tempo totale", "dur"),
    cm.summary_avg("avg_bill", "avg billing time", "media tempo fatturazione", "bill"),
    cm.summary_avg("avg_wait", "avg wait", "media tempo attesa", "wait"),
    cm.summary_avg("avg_talk", "avg talk time", "media tempo conversazione", "talk"),
)


def _r7_metrics(code: str):
    if cm.is_answered(code):
        return (cm.QTY,
                M("worked", "time worked", "tempo lavorato", _D, field="dur"),
                M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "dur"),
                M("talk", "talk time", "tempo conversazione", _D, field="talk"),
                M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
                M("avg_wait", "avg wait", "media tempo attesa", _D, "avg", "wait"))
    return (cm.QTY,
            M("worked", "time worked", "tempo lavorato", _D, field="dur"),
            M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "dur"))


_R7_ANSWERED = Group("answered", "ANSWERED", "RISPOSTE", (
    cm.QTY,
    M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "dur"),
    M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
    M("avg_wait", "avg wait", "media tempo attesa", _D, "avg", "wait"),
), blocks=cm.is_answered)

_R8_ANSWERED = Group("answered", "ANSWERED", "RISPOSTE", (
    cm.QTY,
    M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "dur"),
    M("avg_wait", "avg wait", "media tempo attesa", _D, "avg", "wait"),
    M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
), blocks=cm.is_answered)


def _leg_layout(answered: Group):
    return (
        Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
        answered,
        Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,), blocks=cm.is_unanswered),
        BlockGroups(cm.BLOCK_ORDER, _r7_metrics, cm.CAUSE_LABELS),
    )


_R7_SUMMARY = (
    cm.SUMMARY_QTY,
    cm.summary_total("worked", "time worked", "tempo lavorato", "dur"),
    cm.summary_total("talk", "talk time", "tempo di conversazione", "talk"),
    cm.summary_avg("avg_worked", "avg time worked", "media tempo lavorato", "dur"),
    cm.summary_avg("avg_wait", "avg wait", "media tempo attesa", "wait"),
    cm.summary_avg("avg_talk", "avg talk time", "media tempo conversazione", "talk"),
)
_R8_SUMMARY = (
    cm.SUMMARY_QTY,
    cm.summary_total("worked", "time worked", "tempo lavorato", "dur"),
    cm.summary_avg("avg_worked", "avg time worked", "media tempo lavorato", "dur"),
    cm.summary_total("talk", "talk time", "tempo di conversazione", "talk"),
    cm.summary_avg("avg_talk", "avg talk time", "media tempo conversazione", "talk"),
    cm.summary_avg("avg_wait", "avg wait", "media tempo attesa", "wait"),
)

DEFINITIONS = (
    ("grain", "One row per outgoing call (direction outgoing, §0.8) with a non-empty billing "
              "code (CDR account_code); incoming and internal calls and calls without a code "
              "are not counted (C27)."),
    ("R6 blocks", "The call status: OK is answered, every other status (CANCELED, NOANSWER, "
                  "BUSY, FAILED, UNAVAILABLE ...) is a dynamic unanswered block."),
    ("R7/R8 blocks", "The exit cause of the call's last external (obl) detail line: NCC; "
                     "TRANSFER = BLINDXFER; TRASFERIMENTO = ATXFER; REFUSED = DECLINED; others "
                     "as the PBX writes them. A call loaded without its path takes NCC when OK, "
                     "else its status. Answered: NCC, ANSWER, TRANSFER, TRASFERIMENTO."),
    ("durata / tempo lavorato", "The CDR duration (end − start): an outgoing call's time "
                                "worked includes the ring-back (C17)."),
    ("tempo di fatturazione", "floor(bill_secs): time after the SIP 200 OK (C6)."),
    ("tempo conversazione", "end − answer of the call, from the timestamps (C6)."),
    ("tempo attesa", "answer − start of the call (C6); 0 for calls never answered."),
    ("operator (R8)", "The directory operator of the call's SIP account (src_peer_name); else "
                      "the operator whose extension is the caller, on a '(no account)' row. "
                      "Accounts are listed even without data."),
    ("averages", "Σ seconds / count, floored; header averages divide by the table quantity; "
                 "totals rows are weighted (C1, C2)."),
)

register_report(Report(
    id="cdr.billing_codes", row_pie=("answered.n", "unanswered.n"),
    en="Billing codes report", it="Voip Report Cdr Codici Fatturazione",
    source="CDR call (outgoing, with a billing code)", build=by_code,
    tables_doc="one table; one row per billing code",
    facts=drilldown.Facts(partial(facts_query, BY_CODE), row="code", extra=_EXTRA),
    filters=(flt.STATUS, flt.BILLING_CODE, calendars.HOURS), layout=R6_LAYOUT, summary=R6_SUMMARY,
    definitions=DEFINITIONS,
    charts_doc="report charts (behind the graphs button in Nexus): `answered_pie` (OK vs the "
               "rest), `by_weekday` (total column, answered and unanswered lines; Sunday "
               "first), `by_hour` (one line per billing code: calls per hour 00:00-23:00)."))

register_report(Report(
    id="cdr.billing_codes_by_date", en="Billing codes report by date",
    it="Voip Report Cdr Codici Fatturazione per Data",
    source="CDR call (outgoing, with a billing code)", build=by_date,
    tables_doc="one table per billing code; one row per day of the range (every day listed)",
    facts=drilldown.Facts(partial(facts_query, BY_CODE_DATE), table="code", row="day",
                          extra=_EXTRA),
    filters=(flt.STATUS, flt.EXIT_CAUSE, flt.BILLING_CODE, calendars.HOURS),
    layout=_leg_layout(_R7_ANSWERED),
    summary=_R7_SUMMARY, definitions=DEFINITIONS,
    charts_doc="per table: `by_weekday` (total column, answered and unanswered lines)."))

register_report(Report(
    id="cdr.billing_codes_operators", en="Billing codes operators report",
    it="Voip Report Cdr Codici Fatturazione Dettaglio Operatori Account",
    source="CDR call (outgoing, with a billing code)", build=by_operator,
    tables_doc="one table per billing code; rows: operator, then its accounts",
    facts=drilldown.Facts(partial(facts_query, BY_CODE_OPERATOR), table="code",
                          accounts=True, extra=_EXTRA),
    filters=(flt.STATUS, flt.EXIT_CAUSE, flt.BILLING_CODE, flt.OPERATOR, flt.ACCOUNT,
             calendars.HOURS),
    layout=_leg_layout(_R8_ANSWERED), summary=_R8_SUMMARY, definitions=DEFINITIONS,
    charts_doc="none."))
