"""Bundles (`billing.bundles`): the monthly statement of each bundle of minutes per company:
the flat fee, the minutes included and carried over, the overage and its cost, beside the
pay-per-use cost (pbxlens.billing.bundles)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pbxlens.billing.bundles import statement
from pbxlens.reports import billing as bl
from pbxlens.reports import common as cm
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import Built, Group, Report, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec


def bundles_build(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    """billing.bundles: one row per bundle, company and month (pbxlens.billing.bundles)."""
    companies = set(p.values("company"))
    facts: dict = {}
    rows = []
    for r in statement(con, d_from, d_to, tenant=p.tenant):
        if companies and not companies & {r["company"], r["company_name"]}:
            continue
        key = f"{r['bundle_id']}|{r['company'] or ''}|{r['month']:%Y-%m}"
        rows.append(RowSpec(key, f"{r['description']} · {r['company_name'] or r['company'] or '—'}"
                                 f" · {r['month']:%m/%Y}"))
        facts[key] = {"all": {
            "n": int(r["calls"]), "s": int(r["charged_s"]), "b": int(r["bundle_s"]),
            "carried": int(r["carried_s"]), "covered": int(r["covered_s"]),
            "carried_out": int(r["carried_out_s"]),
            "over": int(r["over_s"]), "fee": Decimal(r["fee"]),
            "overage": Decimal(r["overage"]), "total": Decimal(r["total"]),
            "payg": Decimal(r["payg"])}}
    return [RawTable("bundles", defn.text(defn.table_title, p.lang), rows, facts,
                     row_header=cm.tr(p.lang, "Bundle · company · month",
                                      "Pacchetto · azienda · mese"))], []


register_report(Report(
    id="billing.bundles", en="Bundles: flat fee and overage", it="Pacchetti: canone ed eccedenza",
    source="bundle, company and month over rated calls (billing_bundles, call_costs)",
    build=bundles_build,
    tables_doc="one row per bundle, company and calendar month of the range (months without "
               "calls too: the flat fee is due), in bundle, company, month order",
    filters=(bl.COMPANY,),
    layout=(
        Group("use", "Use", "Utilizzo", (
            M("n", "calls", "chiamate", doc="the calls of the bundle's tariff in the month"),
            M("s", "charged time", "tempo addebitato", "duration", field="s",
              doc="Σ charged seconds (after initial block and increments)"),
            M("b", "bundle", "pacchetto", "duration", field="b",
              doc="the bundle's minutes of the month"),
            M("carried", "carried in", "riportati", "duration", field="carried",
              doc="unused time carried over from the earlier months of the year (rollover)"),
            M("covered", "covered", "coperti", "duration", field="covered",
              doc="the charged time the bundle and the carried time pay for"),
            M("carried_out", "carried out", "a riportare", "duration",
              field="carried_out", doc="unused time carried over to the next month of the year "
                                       "(rollover; 0 without it, and in a month over the bundle)"),
            M("over", "overage time", "tempo eccedente", "duration", field="over"))),
        Group("money", "Amount €", "Importo €", (
            M("fee", "flat fee", "canone", "money", field="fee"),
            M("overage", "overage", "eccedenza", "money", field="overage",
              doc="overage rate × overage seconds / 60, rounded once per month half-up to 5 dp"),
            M("total", "total", "totale", "money", field="total"),
            M("payg", "pay per use", "a consumo", "money", field="payg",
              doc="Σ the per-call costs of the month's calls under the tariff, for comparison"))),
    ),
    table_title=("Bundles", "Pacchetti"), charts_doc="none.", engines=("duckdb",),
    definitions=(
        ("bundle", "A flat fee per company and calendar month that includes minutes of one "
                   "tariff's calls; the charged seconds beyond them are the overage, priced at "
                   "the bundle's overage rate (docs/billing.md has worked examples)."),
        ("rollover", "With rollover the unused minutes carry over to the following months of "
                     "the same calendar year; January starts again from the bundle."),
    ),
    totals_label=("Total", "Totale")))
