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

from datetime import date

from pbxlens.models import vocabulary
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import BlockGroups, Group, ReportDef, SummaryField, register
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec
from pbxlens.reports.operator import NO_ACCOUNT, _acc_label, _op_label

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

# grouping -> (keys, finest per-call columns, block column, grouping sets)
GROUPINGS = {
    "code": (("code", "dow", "hr"), ("dow", "hr"), "status_block",
             "(code, block), (dow, block), (code, hr, block)"),
    "code_date": (("code", "day", "dow"), ("day", "dow"), "block",
                  "(code, day, block), (code, dow, block)"),
    "code_operator": (("code", "op", "acc"), ("account", "caller"), "block",
                      "(code, op, acc, block)"),
}

_STATUS_BLOCK = "CASE WHEN b.status IN ('?', '??') THEN '?' ELSE b.status END"


def query(defn: ReportDef, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    keys, fine, block, sets = GROUPINGS[defn.grouping]
    w = flt.Where()
    flt.call_filters(w, p, "b")
    w.any_of(["b.exit_cause", "b.block"], flt.cause_codes(p.values("exit_cause")))
    bexpr = _STATUS_BLOCK if block == "status_block" else "b.block"
    fine_sql = ", ".join([f"b.{f}" for f in fine] + [f"{bexpr} AS block"])
    ow = flt.Where()
    if defn.grouping == "code_operator":
        ow.add("op IS NOT NULL")
        ow.any_of(["op"], p.values("operator"))
        ow.any_of(["acc"], p.values("account"))
    sql = SQL.format(fine=fine_sql, where=w.sql(), ops=_OPS if defn.grouping ==
                     "code_operator" else "", keys=", ".join(keys),
                     gid="GROUPING(" + ", ".join(keys) + ")", sets=sets,
                     src="o" if defn.grouping == "code_operator" else "g", op_where=ow.sql())
    return sql, [d_from.isoformat(), d_to.isoformat(), *w.args, *ow.args]


def _gid(keys: tuple[str, ...], *present: str) -> int:
    g = 0
    for i, k in enumerate(keys):
        if k not in present:
            g |= 1 << (len(keys) - 1 - i)
    return g


def build(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    sql, args = query(defn, p, d_from, d_to)
    cols, rows = cm.fetch(con, sql, args)
    keys = GROUPINGS[defn.grouping][0]
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    it = p.lang == "it"
    lang = p.lang
    by: dict[int, list[dict]] = {}
    for r in recs:
        by.setdefault(r["gid"], []).append(r)
    codes = sorted({r["code"] for r in recs if r.get("code") is not None} |
                   set(p.values("billing_code")), key=lambda c: (len(c), c))
    title = defn.table_title[1] if it else defn.table_title[0]
    if defn.grouping == "code":
        facts: dict = {}
        for r in by.get(_gid(keys, "code"), []):
            cm.put(facts, r["code"], r["block"], r, FIELDS)
        allb: dict = {}
        for fs in facts.values():
            for b, v in fs.items():
                cm.put(allb, "all", b, v, tuple(v))
        by_dow: dict = {}
        for r in by.get(_gid(keys, "dow"), []):
            cm.put(by_dow, r["dow"], r["block"], r, FIELDS)
        per_hr: dict = {}
        for r in by.get(_gid(keys, "code", "hr"), []):
            per_hr.setdefault(r["code"], [0] * 24)[r["hr"]] += int(r["n"])
        charts = [
            _pie("answered_pie", "Risposte / non risposte" if it else "Answered / unanswered",
                 allb.get("all", {})),
            _slots("by_weekday", "Per giorno della settimana" if it else "By weekday",
                   cm.weekday_x(lang), by_dow, list(range(7))),
            {"id": "by_hour", "title": "Andamento chiamate per codice di fatturazione per "
             "fascia oraria" if it else "Calls by billing code by time slot", "type": "line",
             "x": cm.hour_x(), "series": [{"key": c, "label": c, "kind": "line",
                                           "data": per_hr.get(c, [0] * 24)} for c in codes]},
        ]
        return [RawTable("billing_codes", title, [RowSpec(c, c) for c in codes], facts,
                         row_header="Codice di fatturazione" if it else "Billing code")], charts
    raws: list[RawTable] = []
    if defn.grouping == "code_date":
        days = cm.days_between(d_from, d_to)
        for code in codes:
            facts = {}
            for r in by.get(_gid(keys, "code", "day"), []):
                if r["code"] == code:
                    cm.put(facts, r["day"].isoformat(), r["block"], r, FIELDS)
            by_dow = {}
            for r in by.get(_gid(keys, "code", "dow"), []):
                if r["code"] == code:
                    cm.put(by_dow, r["dow"], r["block"], r, FIELDS)
            raws.append(RawTable(
                code, f"{title} {'codice di fatturazione' if it else 'billing code'}: {code}",
                [RowSpec(d.isoformat(), fmt.day_label(d)) for d in days], facts,
                charts=[cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                      "By weekday", cm.weekday_x(lang), by_dow,
                                      list(range(7)))],
                row_header="Data" if it else "Date"))
        return raws, []
    # code_operator: one table per code; rows operator, then its accounts (listed even empty)
    dirnames = cm.operator_names(con, p.tenant)
    accounts = cm.operator_accounts(con, p.tenant)
    acc_filter = set(p.values("account"))
    per_code: dict[str, dict] = {}
    for r in recs:
        cm.put(per_code.setdefault(r["code"], {}), (r["op"], r["acc"] or NO_ACCOUNT),
               r["block"], r, FIELDS)
    for code in codes:
        facts_of = per_code.get(code, {})
        ops = sorted({o for o, _a in facts_of} | set(p.values("operator")),
                     key=lambda o: (len(o), o))
        rows_: list[RowSpec] = []
        for op in ops:
            seen = [a for a in accounts.get(op, []) if not acc_filter or a in acc_filter]
            for (o, a) in facts_of:
                if o == op and a not in seen:
                    seen.append(a)
            children = [RowSpec(f"{op}\x1f{a}", _acc_label(a, it), 1) for a in seen]
            rows_ += [RowSpec(op, _op_label(op, dirnames.get(op)), 0,
                              children=[c.key for c in children]), *children]
        facts = {f"{o}\x1f{a}": v for (o, a), v in facts_of.items()}
        raws.append(RawTable(
            code, f"{title} {'codice di fatturazione' if it else 'billing code'}: {code}", rows_,
            facts, row_header="Operatore" if it else "Operator"))
    return raws, []


def _ok(b: str) -> bool:
    return b == "OK"


def _ko(b: str) -> bool:
    return b != "OK"


def _slots(cid: str, title: str, x: list[str], by_slot: dict, slots: list) -> dict:
    """total / answered (OK) / unanswered series (R6 blocks are call statuses)."""
    def ser(pred):
        return [int(sum(fs.get("n", 0) for b, fs in by_slot.get(s, {}).items() if pred(b)))
                for s in slots]
    return {"id": cid, "title": title, "type": "combo", "x": x, "series": [
        {"key": "total", "label": "total", "color": cm.ORANGE, "kind": "column",
         "data": ser(lambda b: True)},
        {"key": "answered", "label": "answered", "color": cm.GREEN, "kind": "line",
         "data": ser(_ok)},
        {"key": "unanswered", "label": "unanswered", "color": cm.RED, "kind": "line",
         "data": ser(_ko)}]}


def _pie(cid: str, title: str, facts_by_block: dict) -> dict:
    a = int(sum(fs.get("n", 0) for b, fs in facts_by_block.items() if _ok(b)))
    u = int(sum(fs.get("n", 0) for b, fs in facts_by_block.items() if _ko(b)))
    return {"id": cid, "title": title, "type": "pie", "x": ["answered", "unanswered"],
            "series": [{"key": "n", "label": "quantity", "colors": [cm.GREEN, cm.RED],
                        "data": [a, u]}]}


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
    SummaryField("n", "quantity", "quantità", cm.QTY),
    SummaryField("dur", "total time", "tempo totale", M("d", "", "", _D, field="dur")),
    SummaryField("bill", "billing time", "tempo di fatturazione",
                 M("b", "", "", _D, field="bill")),
    SummaryField("talk", "talk time", "tempo di conversazione",
                 M("t", "", "", _D, field="talk")),
    SummaryField("avg_dur", "avg total time", "media tempo totale",
                 M("ad", "", "", _D, "avg", "dur")),
    SummaryField("avg_bill", "avg billing time", "media tempo fatturazione",
                 M("ab", "", "", _D, "avg", "bill")),
    SummaryField("avg_wait", "avg wait", "media tempo attesa",
                 M("aw", "", "", _D, "avg", "wait")),
    SummaryField("avg_talk", "avg talk time", "media tempo conversazione",
                 M("at", "", "", _D, "avg", "talk")),
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


_WORKED = M("w", "", "", _D, field="dur")
_R7_SUMMARY = (
    SummaryField("n", "quantity", "quantità", cm.QTY),
    SummaryField("worked", "time worked", "tempo lavorato", _WORKED),
    SummaryField("talk", "talk time", "tempo di conversazione",
                 M("t", "", "", _D, field="talk")),
    SummaryField("avg_worked", "avg time worked", "media tempo lavorato",
                 M("aw", "", "", _D, "avg", "dur")),
    SummaryField("avg_wait", "avg wait", "media tempo attesa",
                 M("awt", "", "", _D, "avg", "wait")),
    SummaryField("avg_talk", "avg talk time", "media tempo conversazione",
                 M("at", "", "", _D, "avg", "talk")),
)
_R8_SUMMARY = (
    SummaryField("n", "quantity", "quantità", cm.QTY),
    SummaryField("worked", "time worked", "tempo lavorato", _WORKED),
    SummaryField("avg_worked", "avg time worked", "media tempo lavorato",
                 M("aw", "", "", _D, "avg", "dur")),
    SummaryField("talk", "talk time", "tempo di conversazione",
                 M("t", "", "", _D, field="talk")),
    SummaryField("avg_talk", "avg talk time", "media tempo conversazione",
                 M("at", "", "", _D, "avg", "talk")),
    SummaryField("avg_wait", "avg wait", "media tempo attesa",
                 M("awt", "", "", _D, "avg", "wait")),
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

register(ReportDef(
    id="cdr.billing_codes", options={"row_pie": ("answered.n", "unanswered.n")},
    en="Billing codes report", it="Voip Report Cdr Codici Fatturazione",
    source="CDR call (outgoing, with a billing code)", family="billing_code", grouping="code",
    grouping_doc="one table; one row per billing code",
    filters=("status", "billing_code"), layout=R6_LAYOUT, summary=R6_SUMMARY,
    definitions=DEFINITIONS,
    charts_doc="report charts (behind the graphs button in Nexus): `answered_pie` (OK vs the "
               "rest), `by_weekday` (total column, answered and unanswered lines; Sunday "
               "first), `by_hour` (one line per billing code: calls per hour 00:00-23:00)."))

register(ReportDef(
    id="cdr.billing_codes_by_date", en="Billing codes report by date",
    it="Voip Report Cdr Codici Fatturazione per Data",
    source="CDR call (outgoing, with a billing code)", family="billing_code",
    grouping="code_date",
    grouping_doc="one table per billing code; one row per day of the range (every day listed)",
    filters=("status", "exit_cause", "billing_code"), layout=_leg_layout(_R7_ANSWERED),
    summary=_R7_SUMMARY, definitions=DEFINITIONS,
    charts_doc="per table: `by_weekday` (total column, answered and unanswered lines)."))

register(ReportDef(
    id="cdr.billing_codes_operators", en="Billing codes operators report",
    it="Voip Report Cdr Codici Fatturazione Dettaglio Operatori Account",
    source="CDR call (outgoing, with a billing code)", family="billing_code",
    grouping="code_operator",
    grouping_doc="one table per billing code; rows: operator, then its accounts",
    filters=("status", "exit_cause", "billing_code", "operator", "account"),
    layout=_leg_layout(_R8_ANSWERED), summary=_R8_SUMMARY, definitions=DEFINITIONS,
    charts_doc="none."))
