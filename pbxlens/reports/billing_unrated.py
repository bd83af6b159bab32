"""Unrated calls (`billing.unrated`): ratable calls that no tariff values are an error to fix,
not a zero cost.

A ratable call (answered, incoming or outgoing, bill_secs > 0: one row of `rating_calls`) is
unrated under a method when the rating engine wrote no `call_costs` row for it: no tariff
applies (no prefix, gateway, company or validity fits, or no rate for its direction), or, with
billing_method=profile, no billing profile rule charges it (outgoing calls only: profiles
value nothing else). One row per gateway (inbound
gateway / outbound configuration), blocks by direction; the count cells open the calls, each
with its explanation (`pbxlens billing explain`). `unrated_count()` is the number the billing
home and the finance export check.
"""

from __future__ import annotations

from datetime import date

from pbxlens.billing import unrated
from pbxlens.reports import billing as bl
from pbxlens.reports import common as cm
from pbxlens.reports import drilldown
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import Built, Group, Report, SummaryField, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

_SQL = """
SELECT f.k, max(f.label) AS label, f.block, count(*) AS n, sum(f.billed_s) AS s
FROM ({facts}) f GROUP BY f.k, f.block"""


def _filters(w: flt.Where, p: flt.Params) -> None:
    if p.tenant is not None:
        w.add("rc.tenant = ?", p.tenant)
    w.any_of(["op.organization", "org.name"], p.values("company"))
    w.any_of(["k.dir"], bl.directions(p))
    w.any_of(["k.gw"], p.values("gateway"))
    w.any_of(["op.extension"], p.values("operator"))


def facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    """One row per unrated call (drill-down and counts)."""
    w = flt.Where()
    _filters(w, p)
    return (unrated.FACTS.format(where=w.sql()),
            [d_from.isoformat(), d_to.isoformat(), bl.method(p), bl.method(p), *w.args])


def unrated_count(con, d_from: date | None, d_to: date | None, *, tenant: str | None = None,
                  method: str = "tariff") -> int:
    """billing.unrated's total without filters (pbxlens.billing.unrated.count)."""
    return unrated.count(con, d_from, d_to, tenant=tenant, method=method)


def build(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    sql, args = facts_query(p, d_from, d_to)
    facts: dict = {}
    labels: dict[str, str] = {}
    for r in cm.records(con, _SQL.format(facts=sql), args):
        labels[r["k"]] = r["label"]
        facts.setdefault(r["k"], {})[r["block"]] = {"n": int(r["n"]), "s": int(r["s"] or 0)}
    none = cm.tr(p.lang, "(none)", "(nessuno)")
    rows = [RowSpec(k, none if labels[k] == "(none)" else labels[k])
            for k in sorted(labels, key=lambda k: (labels[k], k))]
    return [RawTable("unrated", defn.text(defn.table_title, p.lang), rows, facts,
                     row_header=cm.tr(p.lang, "Gateway", "Gateway"))], []


def _dir(d: str):
    return lambda b: b == d


LAYOUT = (
    Group("qty", "Unrated calls", "Chiamate non tariffate", (
        M("n_in", "in", "in", blocks=_dir("in")),
        M("n_out", "out", "out", blocks=_dir("out")),
        M("n", "total", "totale", doc="ratable calls without a cost under the method"))),
    Group("time", "Time", "Tempo", (
        M("s_in", "time in", "tempo in", "duration_h", field="s", blocks=_dir("in")),
        M("s_out", "time out", "tempo out", "duration_h", field="s", blocks=_dir("out")),
        M("s", "time", "tempo", "duration_h", field="s", doc="Σ billed seconds"))),
)

register_report(Report(
    id="billing.unrated", en="Unrated calls", it="Chiamate non tariffate",
    source="ratable call without a cost (rating_calls, call_costs)", build=build,
    tables_doc="one row per gateway (inbound gateway / outbound configuration) with unrated "
               "calls; columns by direction",
    filters=(bl.COMPANY, bl.DIRECTION, flt.GATEWAY, flt.OPERATOR, bl.BILLING_METHOD),
    layout=LAYOUT,
    summary=(SummaryField("n", "unrated calls", "chiamate non tariffate", LAYOUT[0].metrics[2]),),
    table_title=("Unrated calls", "Chiamate non tariffate"), charts_doc="none.",
    engines=("duckdb",),
    facts=drilldown.Facts(facts_query, row="k",
                          extra=(("billed_s", "billed time", "tempo fatturato", "duration"),)),
    definitions=(
        ("unrated", "An answered incoming/outgoing call with bill_secs > 0 that no tariff "
                    "values (no prefix, gateway, company or validity fits, or no rate for its "
                    "direction); with billing_method=profile, an outgoing call that no billing "
                    "profile rule charges. An error to fix, never a zero cost: the finance export refuses "
                    "(or marks) a period that has any (setting billing_unrated)."),
        ("gateway", "The call's inbound gateway, or its outbound configuration (the last obl "
                    "detail line), as the tariffs match it."),
        ("why", "`pbxlens billing explain UNIQUE_ID` (or the call's \"why\" link) lists every "
                "tariff and the condition it fails."),
    ),
    totals_label=("Total", "Totale")))

