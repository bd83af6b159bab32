"""The billing reports (nexus_modules.md C.3-C.5): the billing dashboard, its
breakdowns, the tariff consumption and the multiservice billing, as catalog definitions.

Facts come from `call_costs` (one row per rated call and method, written by the rating engine)
summed per row key and *block* = direction (`in` / `out`): count, billed seconds, cost, cost
without the free allowance, free seconds. Money stays Decimal end to end: the per-call costs
are exact 5-dp Decimals, every cell is an exact sum of them (so every total equals the sum of
the per-call costs), JSON carries them as strings, XLSX as numbers with a euro format, and the
display rounds once, half-up, to the cent (BL-8, L6885).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pbxlens import PbxlensError
from pbxlens.reports import common as cm
from pbxlens.reports import drilldown
from pbxlens.reports import filters as flt
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import (
    BlockGroups,
    Built,
    FilterDef,
    Group,
    Report,
    SummaryField,
    register_report,
)
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

COMPANY = FilterDef(
    "company", "Company", "Azienda",
    doc="Billing: the call's company (organization id or name; BL-7).",
    options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM organizations"
                                 " WHERE tenant = ? ORDER BY 2"))
DIRECTION = FilterDef(
    "direction", "Direction", "Direzione",
    options=flt.FixedOptions((("in", "Incoming", "Ingresso"), ("out", "Outgoing", "Uscita"))),
    doc="Billing reports: in or out (incoming/outgoing, ingresso/uscita accepted).")
COST_CENTER = FilterDef(
    "cost_center", "Cost center", "Centro di costo",
    doc="Billing: the operator's cost center (id or name).",
    options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM cost_centers"
                                 " WHERE tenant = ? ORDER BY 2"))
DIVISION = FilterDef(
    "division", "Division", "Divisione", doc="Billing: the operator's division (id or name).",
    options=flt.DirectoryOptions("SELECT id, coalesce(name, id) FROM divisions"
                                 " WHERE tenant = ? ORDER BY 2"))
BILLING_METHOD = FilterDef(
    "billing_method", "Valued by", "Valorizzazione",
    doc="Billing: `tariff` (Nexus tariffs, default) or `profile` (PBX billing profiles); the "
        "last value wins.")

FIELDS = ("n", "s", "cost", "nofree", "free", "lim")
MONEY_FIELDS = ("cost", "nofree")
_IN = {"in", "incoming", "ingresso", "entrata", "i"}
_OUT = {"out", "outgoing", "uscita", "o"}


def _dir(d: str):
    return lambda b: b == d


_H = "duration_h"  # cumulative hours, as the seed's 756:21:54 (L6890)


def _measures() -> tuple[Group, ...]:
    i, o = _dir("in"), _dir("out")
    return (
        Group("qty", "Quantity", "Quantità", (
            M("n", "quantity", "quantità", doc="rated calls"),
            M("n_in", "quantity in", "quantità in", blocks=i),
            M("n_out", "quantity out", "quantità out", blocks=o))),
        Group("time", "Time", "Tempo", (
            M("s", "time", "tempo", _H, field="s", doc="Σ billed seconds (bill_secs rounded up)"),
            M("s_in", "time in", "tempo in", _H, field="s", blocks=i),
            M("s_out", "time out", "tempo out", _H, field="s", blocks=o))),
        Group("cost", "Cost €", "Costo €", (
            M("cost_in", "cost in", "costo in", "money", field="cost", blocks=i),
            M("cost_out", "cost out", "costo out", "money", field="cost", blocks=o),
            M("cost", "cost total", "costo tot", "money", field="cost",
              doc="Σ per-call costs (5 dp, exact)"))),
        Group("nofree", "Cost without free minutes €", "Costo senza flat €", (
            M("nofree_in", "in", "in senza flat", "money", field="nofree", blocks=i),
            M("nofree_out", "out", "out senza flat", "money", field="nofree", blocks=o),
            M("nofree", "total", "tot senza flat", "money", field="nofree",
              doc="Σ hypothetical costs without the annual free allowance"))),
    )


LAYOUT = _measures()


def _headline() -> tuple[SummaryField, ...]:
    out = []
    for g in LAYOUT:
        for m in g.metrics:
            out.append(SummaryField(m.key, m.en, m.it, m))
    return tuple(out)




@dataclass(frozen=True)
class Breakdown:
    """The rated calls by one key: its SQL, its label's SQL, the table key and row header.
    `by_key` sorts the rows by key (months, dates) instead of by label; `dates` labels the rows
    as days; `allowance` adds each tariff's free minutes (the consumption's limit). Calling it
    builds a one-table report."""

    name: str
    key: str
    label: str
    header: tuple[str, str]
    by_key: bool = False
    dates: bool = False
    allowance: bool = False

    def rows(self, con, p: flt.Params, d_from: date, d_to: date) -> tuple[list[RowSpec], dict]:
        """Rows (sorted) and facts."""
        w = flt.Where()
        cost_filters(w, p)
        sql = SQL.format(key=self.key, label=self.label, where=w.sql(), lim="0")
        facts: dict = {}
        labels: dict[str, str] = {}
        for r in cm.records(con, sql, [method(p), d_from.isoformat(), d_to.isoformat(), *w.args]):
            k = r["k"] if r["k"] is not None else ""
            labels[k] = r["label"]
            _put(facts, k, r["block"], r)
        if self.allowance:
            for r in cm.records(con, _LIM_SQL.format(where=w.sql()),
                                [d_from.isoformat(), d_to.isoformat(), *w.args]):
                if r["k"] in facts:
                    facts[r["k"]].setdefault("pool", {"n": 0})["lim"] = int(r["lim"] or 0)
        order = sorted(labels, key=lambda k: (int(k) if self.allowance and k.isdigit() else 0,
                                              k if self.by_key else labels[k], k))
        none = cm.tr(p.lang, "(none)", "(nessuno)")
        return [RowSpec(k, fmt.day_label(date.fromisoformat(k)) if self.dates
                        else none if labels[k] == "(none)" else labels[k])
                for k in order], facts

    def facts(self, p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
        """The rated calls behind the cells (drill-down): the same joins and filters, one row
        per call with its row key `k` (and its month and date, for the dashboard)."""
        w = flt.Where()
        cost_filters(w, p)
        sql = SQL[:SQL.index("GROUP BY")].replace(
            SQL[SQL.index("SELECT"):SQL.index("FROM call_costs")],
            f"SELECT cc.tenant, cc.unique_id, cc.leg_branch, coalesce({self.key}, '') AS k, "
            "strftime(cc.day, '%Y-%m') AS month, CAST(cc.day AS TEXT) AS date, "
            "cc.direction AS block, cc.billed_s, cc.cost\n")
        return (sql.format(where=w.sql()),
                [method(p), d_from.isoformat(), d_to.isoformat(), *w.args])

    def __call__(self, con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
        specs, facts = self.rows(con, p, d_from, d_to)
        return [RawTable(self.name, defn.text(defn.table_title, p.lang), specs, facts,
                         row_header=cm.tr(p.lang, *self.header))], []


BY_MONTH = Breakdown("month", "strftime(cc.day, '%Y-%m')", "strftime(cc.day, '%Y-%m')",
                     ("Month", "Mese"), by_key=True)
BY_DATE = Breakdown("date", "CAST(cc.day AS TEXT)", "CAST(cc.day AS TEXT)", ("Date", "Data"),
                    by_key=True, dates=True)
BY_ORGANIZATION = Breakdown("organization", "cc.company",
                            "coalesce(org.name, nullif(cc.company, ''), '(none)')",
                            ("Organization", "Azienda"))
BY_ORG_UNIT = Breakdown("org_unit", "coalesce(op.org_unit, '')",
                        "coalesce(ou.name, op.org_unit, '(none)')",
                        ("Organizational unit", "Ente"))
BY_GATEWAY = Breakdown("gateway", "coalesce(cc.gateway, '')", "coalesce(cc.gateway, '(none)')",
                       ("Gateway", "Gateway"))
BY_OPERATOR = Breakdown("operator", "coalesce(cc.extension, '')",
                        "coalesce(cc.extension || coalesce(' ' || op.name, ''), '(none)')",
                        ("Operator", "Operatore"))
BY_COST_CENTER = Breakdown("cost_center", "coalesce(op.cost_center, '')",
                           "coalesce(cen.name, op.cost_center, '(none)')",
                           ("Cost center", "Centro di costo"))
BY_DIVISION = Breakdown("division", "coalesce(op.division, '')",
                        "coalesce(dv.name, op.division, '(none)')", ("Division", "Divisione"))
BY_TARIFF = Breakdown("tariff", "CAST(cc.tariff_id AS TEXT)",
                      "coalesce(t.description, 'tariff ' || CAST(cc.tariff_id AS TEXT))",
                      ("Tariff", "Tariffa"), allowance=True)

SQL = """
SELECT {key} AS k, max({label}) AS label, cc.direction AS block, count(*) AS n,
  sum(cc.billed_s) AS s, sum(cc.cost) AS cost, sum(cc.cost_nofree) AS nofree,
  sum(cc.free_s) AS free, {lim} AS lim
FROM call_costs cc
LEFT JOIN operators op ON op.tenant = cc.tenant AND op.extension = cc.extension
LEFT JOIN organizations org ON org.tenant = cc.tenant AND org.id = cc.company
LEFT JOIN org_units ou ON ou.tenant = op.tenant AND ou.id = op.org_unit
LEFT JOIN cost_centers cen ON cen.tenant = op.tenant AND cen.id = op.cost_center
LEFT JOIN divisions dv ON dv.tenant = op.tenant AND dv.id = op.division
LEFT JOIN billing_tariffs t ON t.id = cc.tariff_id
WHERE cc.method = ? AND cc.day >= CAST(? AS DATE) AND cc.day <= CAST(? AS DATE) {where}
GROUP BY k, cc.direction
"""

# The free allowance of a tariff over the range: its annual minutes once per (company, year)
# pool that has calls in the range (C.3 footer "used / limit").
_LIM_SQL = """
SELECT CAST(cc.tariff_id AS TEXT) AS k,
  CAST(coalesce(any_value(t.free_minutes), 0) * 60 AS BIGINT)
    * count(DISTINCT cc.company || '|' || CAST(cc.yr AS TEXT)) AS lim
FROM call_costs cc LEFT JOIN billing_tariffs t ON t.id = cc.tariff_id
LEFT JOIN operators op ON op.tenant = cc.tenant AND op.extension = cc.extension
LEFT JOIN organizations org ON org.tenant = cc.tenant AND org.id = cc.company
LEFT JOIN cost_centers cen ON cen.tenant = op.tenant AND cen.id = op.cost_center
LEFT JOIN divisions dv ON dv.tenant = op.tenant AND dv.id = op.division
WHERE cc.method = 'tariff' AND cc.day >= CAST(? AS DATE) AND cc.day <= CAST(? AS DATE) {where}
GROUP BY cc.tariff_id
"""


def method(p: flt.Params) -> str:
    vals = [v.strip().lower() for v in p.values("billing_method")]
    m = vals[-1] if vals else "tariff"
    if m not in ("tariff", "profile"):
        raise PbxlensError(f"--filter billing_method: tariff or profile, got {m!r}")
    return m


def cost_filters(w: flt.Where, p: flt.Params) -> None:
    """The billing filters on call_costs (cc) and the operator directory (op, org, cen, dv)."""
    if p.tenant is not None:
        w.add("cc.tenant = ?", p.tenant)
    w.any_of(["cc.company", "org.name"], p.values("company"))
    w.any_of(["cc.direction"], directions(p))
    w.any_of(["cc.gateway"], p.values("gateway"))
    w.any_of(["cc.extension"], p.values("operator"))
    w.any_of(["op.cost_center", "cen.name"], p.values("cost_center"))
    w.any_of(["op.division", "dv.name"], p.values("division"))


def directions(p: flt.Params) -> list[str]:
    """The direction filter's values as `in` / `out` (English and Italian words accepted)."""
    dirs = set()
    for v in p.values("direction"):
        v = v.strip().lower()
        if v in _IN:
            dirs.add("in")
        elif v in _OUT:
            dirs.add("out")
        else:
            raise PbxlensError(f"--filter direction: in or out, got {v!r}")
    return sorted(dirs)


def _put(facts: dict, row: str, block: str, rec: dict) -> None:
    tgt = facts.setdefault(row, {}).setdefault(block, {})
    for f in FIELDS:
        v = rec.get(f) or 0
        if f in MONEY_FIELDS:
            tgt[f] = tgt.get(f, Decimal(0)) + Decimal(v)
        else:
            tgt[f] = tgt.get(f, 0) + int(v)


def _series_chart(cid: str, title: str, specs: list[RowSpec], facts: dict) -> dict:
    def ser(field: str, block: str | None) -> list[float]:
        out = []
        for s in specs:
            fs = facts.get(s.key, {})
            v = sum((b.get(field, 0) for k, b in fs.items() if block is None or k == block),
                    Decimal(0))
            out.append(float(v))
        return out

    x = [s.label for s in specs]
    return {"id": cid, "title": title, "type": "combo", "x": x, "series": [
        {"key": "cost", "label": "cost €", "color": cm.ORANGE, "kind": "column",
         "data": ser("cost", None)},
        {"key": "cost_in", "label": "cost in €", "color": cm.GREEN, "kind": "line",
         "data": ser("cost", "in")},
        {"key": "cost_out", "label": "cost out €", "color": cm.RED, "kind": "line",
         "data": ser("cost", "out")}]}


def multiservice(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """billing.multiservice (C.5): one row per company contract, one group per service."""
    from pbxlens.billing.multiservice import lines

    it = p.lang == "it"
    facts: dict = {}
    specs: dict[str, RowSpec] = {}
    for r in lines(con, d_from, d_to, companies=p.values("company") or None, tenant=p.tenant):
        key = f"{r['tenant']}|{r['company']}"
        if key not in specs:
            period = fmt.day_label(r["valid_from"]) + " – " + (
                fmt.day_label(r["valid_to"]) if r["valid_to"] else "…")
            specs[key] = RowSpec(key, f"{r['company_name']} ({period})",
                                 extra={"company": r["company"], "period_from": str(r["valid_from"]),
                                        "period_to": str(r["valid_to"] or "")})
        # n = 1 per (company, service) line keeps every service's columns on the page even
        # when no company used it (the seed shows "chiamate out ... 0"); q is the quantity
        facts.setdefault(key, {})[r["service"]] = {
            "n": 1, "q": int(r["qty"]), "s": int(r["secs"]), "cost": Decimal(r["cost"])}
    rows = sorted(specs.values(), key=lambda s: s.label.lower())
    title = "Fatturazione" if it else "Billing"
    return [RawTable("multiservice", title, rows, facts,
                     row_header="Ragione sociale (competenza)" if it else "Company (period)")], []


def dashboard(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """billing.dashboard (C.4): the costs by month and by date, and their charts."""
    raws, charts = [], []
    for by, tk, en, it_ in ((BY_MONTH, "monthly", "Costs by month", "Costi per mese"),
                            (BY_DATE, "daily", "Costs by date", "Costi per data")):
        specs, facts = by.rows(con, p, d_from, d_to)
        raws.append(RawTable(tk, cm.tr(p.lang, en, it_), specs, facts,
                             row_header=cm.tr(p.lang, *by.header)))
        charts.append(_series_chart(f"{tk}_cost", cm.tr(p.lang, en, it_), specs, facts))
    return raws, charts


# ----------------------------------------------------------------------------- definitions

FILTERS = (COMPANY, DIRECTION, flt.GATEWAY, flt.OPERATOR, COST_CENTER, DIVISION, BILLING_METHOD)
DEFS = (
    ("grain", "One row per rated call and method (`call_costs`): answered incoming/outgoing "
              "calls with bill_secs > 0 that a tariff (or, with billing_method=profile, a PBX "
              "billing profile) values, placed on the call's PBX-local start day."),
    ("time", "Σ billed seconds: bill_secs rounded up to whole seconds (decisions.md)."),
    ("cost", "Σ per-call costs: answer charge + rate × charged seconds / 60, each call rounded "
             "once half-up to 5 decimals (C.2, BL-8); totals are exact sums of the per-call "
             "costs, displayed rounded to the cent."),
    ("cost without free minutes", "Σ hypothetical per-call costs as if no annual free "
                                  "allowance existed (\"senza flat\", C.3/C.4)."),
    ("company", "The organization of the call's operator (answered_by for incoming, the "
                "placing account/extension for outgoing; BL-7)."),
)
_EXTRA = (("billed_s", "billed time", "tempo fatturato", "duration"),
          ("cost", "cost €", "costo €", "money"))
_COMMON = dict(source="rated call (call_costs)", filters=FILTERS,
               layout=LAYOUT, definitions=DEFS, totals_label=("Total", "Totale"))

register_report(Report(
    id="billing.dashboard", en="Billing dashboard", it="Dashboard tariffazione", build=dashboard,
    tables_doc="two tables: months (YYYY-MM) and dates with rated calls; the header strip "
               "holds the 12 headline totals (C.4)",
    summary=_headline(), table_title=("Costs", "Costi"),
    facts=drilldown.Facts(BY_MONTH.facts, row={"monthly": "month", "daily": "date"},
                          extra=_EXTRA),
    charts_doc="`monthly_cost`, `daily_cost`: cost (column), cost in and cost out (lines), EUR.",
    **_COMMON))

for _by, _en, _it in (
    (BY_MONTH, "Billing by month", "Costi per mese"),
    (BY_DATE, "Billing by date", "Costi per data"),
    (BY_ORGANIZATION, "Billing by organization", "Costi per azienda"),
    (BY_ORG_UNIT, "Billing by organizational unit", "Costi per ente"),
    (BY_GATEWAY, "Billing by gateway", "Costi per gateway"),
    (BY_OPERATOR, "Billing by operator", "Costi per operatore"),
    (BY_COST_CENTER, "Billing by cost center", "Costi per centro di costo"),
    (BY_DIVISION, "Billing by division", "Costi per divisione"),
):
    register_report(Report(
        id=f"billing.by_{_by.name}", en=_en, it=_it, build=_by,
        tables_doc=f"one row per {_by.header[0].lower()} with rated calls, sorted",
        table_title=(_en, _it), charts_doc="none.", **_COMMON,
        facts=drilldown.Facts(_by.facts, row="k", extra=_EXTRA)))

register_report(Report(
    id="billing.consumption", en="Tariff consumption", it="Consumo tariffe",
    source="rated call (call_costs)", build=BY_TARIFF,
    tables_doc="one row per tariff with rated calls; columns by direction (entrata / uscita / "
               "totale, C.3)",
    filters=(COMPANY, DIRECTION, flt.GATEWAY, flt.OPERATOR, COST_CENTER, DIVISION),
    layout=(
        Group("in", "Inbound", "Entrata", (
            M("n", "calls", "chiamate", blocks=_dir("in")),
            M("s", "time", "tempo", _H, field="s", blocks=_dir("in")),
            M("cost", "cost €", "costo €", "money", field="cost", blocks=_dir("in")),
            M("nofree", "hypothetical cost €", "costo ipotetico €", "money", field="nofree",
              blocks=_dir("in")))),
        Group("out", "Outbound", "Uscita", (
            M("n", "calls", "chiamate", blocks=_dir("out")),
            M("s", "time", "tempo", _H, field="s", blocks=_dir("out")),
            M("cost", "cost €", "costo €", "money", field="cost", blocks=_dir("out")),
            M("nofree", "hypothetical cost €", "costo ipotetico €", "money", field="nofree",
              blocks=_dir("out")))),
        Group("total", "Total", "Totale", (
            M("n", "calls", "chiamate"),
            M("s", "time", "tempo", _H, field="s"),
            M("cost", "cost €", "costo €", "money", field="cost"),
            M("nofree", "hypothetical cost €", "costo ipotetico €", "money", field="nofree"))),
        Group("free", "Free minutes", "Limite gratuito", (
            M("used", "used", "usato", _H, field="free",
              doc="Σ free-allowance seconds the calls of the range consumed"),
            M("limit", "allowance", "limite", _H, field="lim",
              doc="annual free minutes × the (company, year) pools with calls in the range"),
            M("pct", "% used", "% usato", "percent", "pct_int", "free", ("lim",),
              doc="used / allowance, a whole percent rounded half-up (BL-11: `(0%)`)"))),
    ),
    table_title=("Consumption", "Consumo"), charts_doc="none.",
    facts=drilldown.Facts(BY_TARIFF.facts, row="k", extra=_EXTRA),
    definitions=(*DEFS, ("free minutes", "One pool per tariff, tenant, company and calendar year,"
                                         " shared by inbound and outbound, consumed in start "
                                         "order (C.2, BL-3).")),
    totals_label=("Total", "Totale")))


def _ms_metrics(code: str):
    return (M("q", "total", "totale", field="q", blocks=_dir(code)),
            M("s", "time", "tempo", "duration", field="s", blocks=_dir(code)),
            M("cost", "cost €", "costo €", "money", field="cost", blocks=_dir(code)))


register_report(Report(
    id="billing.multiservice", en="Multiservice billing", it="Fatturazione multiservizio",
    source="contract, service, CDR call", build=multiservice,
    tables_doc="one row per company with a contract overlapping the range, labelled with its "
               "period (competenza); one column group per service (C.5)",
    filters=(COMPANY,),
    layout=(
        BlockGroups(order=("chiamate in", "chiamate out"), metrics_for=_ms_metrics),
        Group("total", "Total costs", "Totale costi", (
            M("cost", "cost €", "costo €", "money", field="cost"),)),
    ),
    table_title=("Billing", "Fatturazione"), charts_doc="none.",
    definitions=(
        ("calls", "Call services (kind calls_in / calls_out): the company's answered calls of "
                  "that direction with start in the contract period ∩ the range; cost = calls × "
                  "answer charge + rate × max(0, minutes − free minutes) (C.5)."),
        ("units", "Other services: Σ quantities entered for periods overlapping the contract "
                  "period ∩ the range; cost = max(0, quantity − free) × rate."),
        ("rounding", "Each service cost rounded once half-up to 5 decimals; the total is their "
                     "exact sum."),
    ),
    totals_label=("Total", "Totale")))
