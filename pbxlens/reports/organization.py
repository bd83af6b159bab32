"""The organization family: R16 (by organization), R17 (per organization, operator -> account),
R21 (by organizational unit), R22 (per organizational unit, operator -> account).

Grain: the operator legs of the operators report (R14): received legs and calls the operator
originates (derived table `agent_legs`), placed in the organization / organizational unit of
the operator in the directory (operators.organization / operators.org_unit, C14: Ente =
organization, Reparto = organizational unit). Legs of operators with neither are left out.
"""

from __future__ import annotations

from datetime import date

from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import operator as op
from pbxlens.reports.catalog import (
    BlockGroups,
    FilterDef,
    Group,
    ReportDef,
    register,
    register_filter,
)
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

register_filter(FilterDef("organization", "Organization", "Organizzazione",
                          doc="Organization (Ente) id or name of the operator."))
register_filter(FilterDef("org_unit", "Organizational unit", "Reparto",
                          doc="Organizational unit (Reparto) id or name of the operator."))

FIELDS = op.FIELDS
# unit option -> (operators column, directory table of names)
UNITS = {"organization": ("organization", "organizations"), "org_unit": ("org_unit", "org_units")}

# Legs of the range (received + originated by an operator account) are summed per operator and
# finest key first; the directory's organization / unit is joined on those sums.
SQL = """
WITH legs AS (
  SELECT g.tenant, g.extension AS op, g.account, g.block, g.exit_cause, {fine_g},
    g.worked_s, g.talk_s, g.ring_s, g.resp_s
  FROM agent_legs g
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'recv' {call_where}
  UNION ALL
  SELECT g.tenant, a.extension AS op, g.account, g.block, g.exit_cause, {fine_g},
    g.worked_s, g.talk_s, g.ring_s, g.resp_s
  FROM agent_legs g JOIN accounts a ON a.tenant = g.tenant AND a.account = g.account
  WHERE g.day >= CAST(? AS DATE) AND g.day <= CAST(? AS DATE) AND g.kind = 'orig' {call_where}
), s AS (
  SELECT tenant, op, {fine}, block, count(*) AS n, sum(worked_s) AS worked,
    sum(talk_s) AS talk, sum(ring_s) AS ring, sum(resp_s) AS resp
  FROM legs WHERE 1 = 1 {leg_where}
  GROUP BY ALL
), u AS (
  SELECT s.*, o.{col} AS unit
  FROM s JOIN operators o ON o.tenant = s.tenant AND o.extension = s.op
  LEFT JOIN {names} un ON un.tenant = o.tenant AND un.id = o.{col}
  WHERE nullif(o.{col}, '') IS NOT NULL {unit_where}
)
SELECT {keys}, block, {gid} AS gid, sum(n) AS n, sum(worked) AS worked, sum(talk) AS talk,
  sum(ring) AS ring, sum(resp) AS resp
FROM u
GROUP BY GROUPING SETS ({sets})
"""

# grouping -> (keys, finest per-leg columns, grouping sets)
GROUPINGS = {
    "unit": (("unit", "dow", "hr"), ("dow", "hr"), "(unit, block), (dow, block), (hr, block)"),
    "unit_operator": (("unit", "op", "account"), ("account",), "(unit, op, account, block)"),
}


def query(defn: ReportDef, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    unit = defn.options["unit"]
    col, names = UNITS[unit]
    keys, fine, sets = GROUPINGS[defn.grouping]
    cw = flt.Where()
    flt.call_filters(cw, p, "g")
    lw = flt.Where()
    lw.any_of(["op"], p.values("operator"))
    lw.any_of(["exit_cause", "block"], flt.cause_codes(p.values("exit_cause")))
    uw = flt.Where()
    uw.any_of([f"o.{col}", "un.name"], p.values(unit))
    fine_cols = [f for f in fine if f != "account"]
    sql = SQL.format(fine_g=", ".join(f"g.{f}" for f in fine_cols) or "NULL AS _x",
                     fine=", ".join(fine), call_where=cw.sql(), leg_where=lw.sql(), col=col,
                     names=names, unit_where=uw.sql(), keys=", ".join(keys),
                     gid="GROUPING(" + ", ".join(keys) + ")", sets=sets)
    rng = [d_from.isoformat(), d_to.isoformat(), *cw.args]
    return sql, [*rng, *rng, *lw.args, *uw.args]


def build(con, defn: ReportDef, p: flt.Params, d_from: date, d_to: date):
    sql, args = query(defn, p, d_from, d_to)
    cols, rows = cm.fetch(con, sql, args)
    keys = GROUPINGS[defn.grouping][0]
    nk = len(keys)
    it = p.lang == "it"
    unit = defn.options["unit"]
    _col, names = UNITS[unit]
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    unit_names = dict(con.execute(f"SELECT id, name FROM {names}").fetchall())
    units = {r["unit"] for r in recs if r.get("unit") is not None}
    for v in p.values(unit):  # a filtered unit is shown even without data
        units |= {k for k, n in unit_names.items() if v in (k, n)}
    order = sorted(units, key=lambda k: ((unit_names.get(k) or k).lower(), k))

    def label(k: str) -> str:
        return unit_names.get(k) or k

    def gid_of(*present: str) -> int:
        g = 0
        for i, k in enumerate(keys):
            if k not in present:
                g |= 1 << (nk - 1 - i)
        return g

    title = defn.table_title[1] if it else defn.table_title[0]
    rh_unit = (("Organizzazione" if it else "Organization") if unit == "organization" else
               ("Reparto" if it else "Organizational unit"))
    if defn.grouping == "unit":
        facts: dict = {}
        slots: dict = {"dow": {}, "hr": {}}
        allb: dict = {}
        for r in recs:
            if r["gid"] == gid_of("unit"):
                cm.put(facts, r["unit"], r["block"], r, FIELDS)
                cm.put(allb, "all", r["block"], r, FIELDS)
            elif r["gid"] == gid_of("dow"):
                cm.put(slots["dow"], r["dow"], r["block"], r, FIELDS)
            elif r["gid"] == gid_of("hr"):
                cm.put(slots["hr"], r["hr"], r["block"], r, FIELDS)
        charts = [cm.pie("answered_pie", "Risposte / non risposte" if it else
                         "Answered / unanswered", allb.get("all", {})),
                  cm.slot_chart("by_weekday", "Per giorno della settimana" if it else
                                "By weekday", cm.weekday_x(p.lang), slots["dow"],
                                list(range(7))),
                  cm.slot_chart("by_hour", "Per ora" if it else "By hour", cm.hour_x(),
                                slots["hr"], list(range(24)))]
        return [RawTable(unit, title, [RowSpec(k, label(k)) for k in order], facts,
                         row_header=rh_unit)], charts

    dirnames = cm.operator_names(con, p.tenant)
    accounts = cm.operator_accounts(con, p.tenant)
    per_unit: dict[str, dict] = {}
    for r in recs:
        cm.put(per_unit.setdefault(r["unit"], {}), (r["op"], r["account"] or op.NO_ACCOUNT),
               r["block"], r, FIELDS)
    raws = []
    word = (("ente" if it else "organization") if unit == "organization" else
            ("reparto" if it else "organizational unit"))
    for uk in order:
        facts_of = per_unit.get(uk, {})
        ops = sorted({o for o, _a in facts_of}, key=lambda o: (len(o), o))
        rows_: list[RowSpec] = []
        for o in ops:
            seen = list(accounts.get(o, []))
            for (oo, a) in facts_of:
                if oo == o and a not in seen:
                    seen.append(a)
            children = [RowSpec(f"{o}\x1f{a}", op._acc_label(a, it), 1) for a in seen]
            rows_ += [RowSpec(o, op._op_label(o, dirnames.get(o)), 0,
                              children=[c.key for c in children]), *children]
        facts = {f"{o}\x1f{a}": v for (o, a), v in facts_of.items()}
        raws.append(RawTable(uk, f"{title} {word} {label(uk)}", rows_, facts,
                             row_header="Operatore" if it else "Operator"))
    return raws, []


# ----------------------------------------------------------------------------- definitions

_D = "duration"


def _detail_metrics(code: str):
    """Detail pages (R17, R22): answered blocks in order A (errata R22), unanswered blocks
    quantity, time worked, average time worked."""
    if cm.is_answered(code):
        return op._r3_metrics(code)
    return op._r14_metrics(code)


DETAIL_LAYOUT = (
    Group("total", "TOTAL", "TOTALE", (cm.QTY,)),
    Group("answered", "ANSWERED", "RISPOSTE", (
        cm.QTY,
        M("avg_worked", "avg time worked", "media tempo lavorato", _D, "avg", "worked"),
        op.RING_AVG,
        M("avg_resp", "avg response time", "media tempo risposta", _D, "avg", "resp"),
        M("avg_talk", "avg talk time", "media tempo conversazione", _D, "avg", "talk"),
    ), blocks=cm.is_answered),
    Group("unanswered", "UNANSWERED", "NON RISPOSTE", (cm.QTY,), blocks=cm.is_unanswered),
    BlockGroups(cm.BLOCK_ORDER, _detail_metrics, op._LEG_LABELS),
)

DEFINITIONS = (
    ("organization / unit", "The organization (Ente) or organizational unit (Reparto) of the "
                            "leg's operator in the directory (C14); operators with none are "
                            "not counted."),
    *op.LEG_DEFINITIONS,
)

_COMMON = ("status", "exit_cause", "source", "destination")

register(ReportDef(
    id="cdr.organizations", en="Organizations report", it="Voip Report Cdr Organizzazione",
    source="operator leg", family="organization", grouping="unit",
    grouping_doc="one table; one row per organization",
    filters=(*_COMMON, "organization", "operator"), layout=op.R14_LAYOUT,
    summary=op.LEG_SUMMARY, definitions=DEFINITIONS,
    options={"unit": "organization", "row_pie": ("answered.n", "unanswered.n")},
    charts_doc="report charts: `answered_pie` (all organizations), `by_weekday` and `by_hour` "
               "(total column, answered and unanswered lines)."))

register(ReportDef(
    id="cdr.organizations_operators", en="Organizations operators report",
    it="Voip Report Cdr Organizzazione Dettaglio Operatori Account", source="operator leg",
    family="organization", grouping="unit_operator",
    grouping_doc="one table per organization; rows: operator, then its accounts",
    filters=(*_COMMON, "organization", "operator"), layout=DETAIL_LAYOUT,
    summary=op.LEG_SUMMARY, definitions=DEFINITIONS, options={"unit": "organization"},
    charts_doc="none."))

register(ReportDef(
    id="cdr.org_units", en="Organizational units report", it="Voip Report Cdr Ente",
    source="operator leg", family="organization", grouping="unit",
    grouping_doc="one table; one row per organizational unit",
    filters=(*_COMMON, "org_unit", "operator"), layout=op.R14_LAYOUT, summary=op.LEG_SUMMARY,
    definitions=DEFINITIONS, options={"unit": "org_unit", "row_pie": ("answered.n", "unanswered.n")},
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (as R16)."))

register(ReportDef(
    id="cdr.org_units_operators", en="Organizational units operators report",
    it="Voip Report Cdr Ente Dettaglio Operatori Account", source="operator leg",
    family="organization", grouping="unit_operator",
    grouping_doc="one table per organizational unit; rows: operator, then its accounts",
    filters=(*_COMMON, "org_unit", "operator"), layout=DETAIL_LAYOUT, summary=op.LEG_SUMMARY,
    definitions=DEFINITIONS, options={"unit": "org_unit"}, charts_doc="none."))
