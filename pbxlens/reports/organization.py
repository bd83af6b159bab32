"""The organization family: R16 (by organization), R17 (per organization, operator -> account),
R21 (by organizational unit), R22 (per organizational unit, operator -> account).

Grain: the operator legs of the operators report (R14): received legs and calls the operator
originates (derived table `agent_legs`), placed in the organization / organizational unit of
the operator in the directory (operators.organization / operators.org_unit, C14: Ente =
organization, Reparto = organizational unit). Legs of operators with neither are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pbxlens.reports import calendars, drilldown, scaffold
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports import operator as op
from pbxlens.reports.catalog import BlockGroups, Built, FilterDef, Group, Report, register_report
from pbxlens.reports.common import Grouping, M
from pbxlens.reports.engine import RawTable, RowSpec

FIELDS = op.FIELDS


@dataclass(frozen=True)
class Unit:
    """What a row stands for: the operators' organization (Ente) or organizational unit
    (Reparto). `key` is the operators column, the filter key and the table key; `names` the
    directory table of names; `header` the row header; `word` the per-unit table title's."""

    key: str
    names: str
    filter: FilterDef
    header: tuple[str, str]
    word: tuple[str, str]


ORGANIZATION = Unit(
    "organization", "organizations",
    FilterDef("organization", "Organization", "Organizzazione",
              doc="Organization (Ente) id or name of the operator.",
              options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM organizations"
                                           " WHERE tenant = ? ORDER BY 2")),
    header=("Organization", "Organizzazione"), word=("organization", "ente"))
ORG_UNIT = Unit(
    "org_unit", "org_units",
    FilterDef("org_unit", "Organizational unit", "Reparto",
              doc="Organizational unit (Reparto) id or name of the operator.",
              options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM org_units"
                                           " WHERE tenant = ? ORDER BY 2")),
    header=("Organizational unit", "Reparto"), word=("organizational unit", "reparto"))

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



@dataclass(frozen=True)
class UnitGrouping(Grouping):
    """A grouping of the unit query and the per-leg columns summed first (`fine`)."""

    fine: tuple[str, ...] = ()


BY_UNIT = UnitGrouping(("unit", "dow", "hr"), "(unit, block), (dow, block), (hr, block)",
                       fine=("dow", "hr"))
BY_UNIT_OPERATOR = UnitGrouping(("unit", "op", "account"), "(unit, op, account, block)",
                                fine=("account",))


def query(unit: Unit, g: UnitGrouping, p: flt.Params, d_from: date, d_to: date
          ) -> tuple[str, list]:
    cw = op.leg_call_where(p, d_from, d_to)
    lw = flt.Where()
    lw.any_of(["op"], p.values("operator"))
    lw.any_of(["exit_cause", "block"], flt.cause_codes(p.values("exit_cause")))
    uw = flt.Where()
    uw.any_of([f"o.{unit.key}", "un.name"], p.values(unit.key))
    fine_cols = [f for f in g.fine if f != "account"]
    sql = SQL.format(fine_g=", ".join(f"g.{f}" for f in fine_cols) or "NULL AS _x",
                     fine=", ".join(g.fine), call_where=cw.sql(), leg_where=lw.sql(),
                     col=unit.key, names=unit.names, unit_where=uw.sql(), keys=g.columns,
                     gid=g.gid, sets=g.sets)
    rng = [d_from.isoformat(), d_to.isoformat(), *cw.args]
    return sql, [*rng, *rng, *lw.args, *uw.args]


@dataclass(frozen=True)
class UnitFacts:
    """The legs behind the cells of a unit report (drill-down): the operators report's legs
    with the same filters, placed in their operator's unit."""

    unit: Unit

    def __call__(self, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
        sql, args = op.facts_query(p, d_from, d_to)
        uw = flt.Where()
        uw.any_of([f"o.{self.unit.key}", "un.name"], p.values(self.unit.key))
        col, names = self.unit.key, self.unit.names
        return (f"""SELECT l.*, o.{col} AS unit FROM ({sql}) l
  JOIN operators o ON o.tenant = l.tenant AND o.extension = l.op
  LEFT JOIN {names} un ON un.tenant = o.tenant AND un.id = o.{col}
  WHERE nullif(o.{col}, '') IS NOT NULL {uw.sql()}""", [*args, *uw.args])  # noqa: S608 -- names and SQL fragments from code; values bound


def _units(con, unit: Unit, recs: list[dict], p: flt.Params):
    """The units of the rows and of the filter (shown even without data), in display order,
    and their label (the directory's name)."""
    unit_names = dict(con.execute(f"SELECT id, name FROM {unit.names}").fetchall())  # noqa: S608 -- names and SQL fragments from code; values bound
    units = {r["unit"] for r in recs if r.get("unit") is not None}
    for v in p.values(unit.key):
        units |= {k for k, n in unit_names.items() if v in (k, n)}

    def label(k: str) -> str:
        return unit_names.get(k) or k

    return sorted(units, key=lambda k: (label(k).lower(), k)), label


@dataclass(frozen=True)
class ByUnit:
    """R16 / R21: one row per unit, and the chart trio."""

    unit: Unit

    def __call__(self, con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
        sets = cm.GroupingSets(BY_UNIT.keys,
                               cm.records(con, *query(self.unit, BY_UNIT, p, d_from, d_to)))
        order, label = _units(con, self.unit, sets.rows, p)
        facts = cm.facts_by(sets.of("unit"), lambda r: r["unit"], FIELDS)
        table = RawTable(self.unit.key, defn.text(defn.table_title, p.lang),
                         [RowSpec(k, label(k)) for k in order], facts,
                         row_header=cm.tr(p.lang, *self.unit.header))
        return [table], scaffold.chart_trio(
            p.lang, facts, cm.facts_by(sets.of("dow"), lambda r: r["dow"], FIELDS),
            cm.facts_by(sets.of("hr"), lambda r: r["hr"], FIELDS))


@dataclass(frozen=True)
class ByUnitOperator:
    """R17 / R22: per unit, operator then its accounts."""

    unit: Unit

    def __call__(self, con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
        recs = cm.records(con, *query(self.unit, BY_UNIT_OPERATOR, p, d_from, d_to))
        order, label = _units(con, self.unit, recs, p)
        op_label = scaffold.by_operator_label(cm.operator_names(con, p.tenant))
        accounts = cm.operator_accounts(con, p.tenant)
        per_unit: dict[str, dict] = {}
        for r in recs:
            cm.put(per_unit.setdefault(r["unit"], {}),
                   (r["op"], r["account"] or scaffold.NO_ACCOUNT), r["block"], r, FIELDS)
        title = defn.text(defn.table_title, p.lang)
        word = cm.tr(p.lang, *self.unit.word)
        raws = []
        for uk in order:
            facts_of = per_unit.get(uk, {})
            rows, facts = scaffold.operator_rows(
                scaffold.operator_order({o for o, _a in facts_of}), op_label, facts_of,
                accounts, p.lang)
            raws.append(RawTable(uk, f"{title} {word} {label(uk)}", rows, facts,
                                 row_header=cm.tr(p.lang, "Operator", "Operatore")))
        return raws, []


# ----------------------------------------------------------------------------- definitions

_D = "duration"


def _detail_metrics(code: str):
    """Detail pages (R17, R22): answered blocks in order A (errata R22), unanswered blocks
    quantity, time worked, average time worked."""
    if cm.is_answered(code):
        return op.leg_metrics_detail(code)
    return op.leg_metrics_summary(code)


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
    BlockGroups(cm.BLOCK_ORDER, _detail_metrics, op.LEG_LABELS),
)

DEFINITIONS = (
    ("organization / unit", "The organization (Ente) or organizational unit (Reparto) of the "
                            "leg's operator in the directory (C14); operators with none are "
                            "not counted."),
    *op.LEG_DEFINITIONS,
)

_COMMON = (flt.STATUS, flt.EXIT_CAUSE, flt.SOURCE, flt.DESTINATION, calendars.HOURS)

register_report(Report(
    id="cdr.organizations", en="Organizations report", it="Voip Report Cdr Organizzazione",
    source="operator leg", build=ByUnit(ORGANIZATION),
    tables_doc="one table; one row per organization",
    facts=drilldown.Facts(UnitFacts(ORGANIZATION), row="unit", extra=op.LEG_EXTRA, order="seq"),
    filters=(*_COMMON, ORGANIZATION.filter, flt.OPERATOR), layout=op.R14_LAYOUT,
    summary=op.LEG_SUMMARY, definitions=DEFINITIONS, row_pie=("answered.n", "unanswered.n"),
    charts_doc="report charts: `answered_pie` (all organizations), `by_weekday` and `by_hour` "
               "(total column, answered and unanswered lines)."))

register_report(Report(
    id="cdr.organizations_operators", en="Organizations operators report",
    it="Voip Report Cdr Organizzazione Dettaglio Operatori Account", source="operator leg",
    build=ByUnitOperator(ORGANIZATION),
    tables_doc="one table per organization; rows: operator, then its accounts",
    facts=drilldown.Facts(UnitFacts(ORGANIZATION), table="unit", accounts=True, extra=op.LEG_EXTRA,
                          order="seq"),
    filters=(*_COMMON, ORGANIZATION.filter, flt.OPERATOR), layout=DETAIL_LAYOUT,
    summary=op.LEG_SUMMARY, definitions=DEFINITIONS,
    charts_doc="none."))

register_report(Report(
    id="cdr.org_units", en="Organizational units report", it="Voip Report Cdr Ente",
    source="operator leg", build=ByUnit(ORG_UNIT),
    tables_doc="one table; one row per organizational unit",
    facts=drilldown.Facts(UnitFacts(ORG_UNIT), row="unit", extra=op.LEG_EXTRA, order="seq"),
    filters=(*_COMMON, ORG_UNIT.filter, flt.OPERATOR), layout=op.R14_LAYOUT,
    summary=op.LEG_SUMMARY, definitions=DEFINITIONS, row_pie=("answered.n", "unanswered.n"),
    charts_doc="report charts: `answered_pie`, `by_weekday`, `by_hour` (as R16)."))

register_report(Report(
    id="cdr.org_units_operators", en="Organizational units operators report",
    it="Voip Report Cdr Ente Dettaglio Operatori Account", source="operator leg",
    build=ByUnitOperator(ORG_UNIT),
    tables_doc="one table per organizational unit; rows: operator, then its accounts",
    facts=drilldown.Facts(UnitFacts(ORG_UNIT), table="unit", accounts=True, extra=op.LEG_EXTRA,
                          order="seq"),
    filters=(*_COMMON, ORG_UNIT.filter, flt.OPERATOR), layout=DETAIL_LAYOUT,
    summary=op.LEG_SUMMARY, definitions=DEFINITIONS, charts_doc="none."))
