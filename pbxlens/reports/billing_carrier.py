"""Carrier reconciliation (`billing.carrier`): the carrier's invoice lines against the calls,
per gateway and month (pbxlens.billing.carrier imports and matches them).

Facts, one per invoice line or unmatched call, in four blocks: `ok` (a line matched to a call,
costs within the tolerance carrier_cost_tolerance), `mispriced` (matched, costs further apart),
`invoice` (a line no call matches: only in the invoice), `pbx` (an outgoing call of the
gateway within an invoice's days that no line matches: only in pbxlens). Money: the invoice's
cost, pbxlens's current cost of the call (call_costs under the billing method; a call no
tariff values counts 0) and their difference (invoice − pbxlens). Count cells open the lines
and calls; the XLSX export is the finance's reconciliation sheet.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pbxlens.config import get_settings
from pbxlens.reports import billing as bl
from pbxlens.reports import common as cm
from pbxlens.reports import drilldown
from pbxlens.reports import filters as flt
from pbxlens.reports.catalog import Built, Group, Report, register_report
from pbxlens.reports.common import M
from pbxlens.reports.engine import RawTable, RowSpec

# Args: method, tolerance, first day, last day, [where args], method, first day, last day,
# [where args]. {where} filters the invoices (inv).
_FACTS = """
WITH inv AS (SELECT * FROM carrier_invoices inv WHERE true {where}),
lines AS (
  SELECT inv.tenant, coalesce(m.unique_id, 'line ' || CAST(l.line_no AS TEXT)) AS unique_id,
    inv.gateway, l.day, timezone(?, l.start_ts) AS started, l.number AS called,
    l.line_no, l.duration_s, l.cost AS inv, coalesce(cc.cost, 0) AS pbx, m.unique_id IS NOT NULL
      AS matched
  FROM inv JOIN carrier_invoice_lines l ON l.invoice_id = inv.id
  LEFT JOIN carrier_matches m ON m.invoice_id = l.invoice_id AND m.line_no = l.line_no
  LEFT JOIN call_costs cc ON cc.method = ? AND cc.tenant = m.tenant
    AND cc.unique_id = m.unique_id AND cc.leg_branch = m.leg_branch
  WHERE l.day >= CAST(? AS DATE) AND l.day <= CAST(? AS DATE)),
calls AS (
  SELECT DISTINCT inv.tenant, rc.unique_id, rc.leg_branch, inv.gateway, rc.day, rc.start_ts,
    k.num, rc.s
  FROM inv JOIN rating_keys k ON k.tenant = inv.tenant AND k.dir = 'out'
    AND (k.line = inv.gateway OR k.gw = inv.gateway)
  JOIN rating_calls rc ON rc.kid = k.kid AND rc.day BETWEEN inv.first_day AND inv.last_day
  WHERE rc.day >= CAST(? AS DATE) AND rc.day <= CAST(? AS DATE)
    AND NOT EXISTS (SELECT 1 FROM carrier_matches m JOIN carrier_invoices i2
      ON i2.id = m.invoice_id AND i2.gateway = inv.gateway
      WHERE m.tenant = rc.tenant AND m.unique_id = rc.unique_id
        AND m.leg_branch = rc.leg_branch))
SELECT tenant, unique_id, gateway || '|' || strftime(day, '%Y-%m') AS k,
  gateway || ' · ' || strftime(day, '%m/%Y') AS label, started, '' AS caller, called,
  CASE WHEN NOT matched THEN 'invoice' WHEN abs(inv - pbx) > CAST(? AS DECIMAL(18, 5))
       THEN 'mispriced' ELSE 'ok' END AS block,
  CASE WHEN NOT matched THEN 'invoice' WHEN abs(inv - pbx) > CAST(? AS DECIMAL(18, 5))
       THEN 'mispriced' ELSE 'ok' END AS status,
  duration_s, inv, pbx, inv - pbx AS diff
FROM lines
UNION ALL
SELECT c.tenant, c.unique_id, c.gateway || '|' || strftime(c.day, '%Y-%m'),
  c.gateway || ' · ' || strftime(c.day, '%m/%Y'), timezone(?, c.start_ts), '', c.num, 'pbx',
  'pbx', c.s, CAST(0 AS DECIMAL(18, 5)), coalesce(cc.cost, 0), -coalesce(cc.cost, 0)
FROM calls c LEFT JOIN call_costs cc ON cc.method = ? AND cc.tenant = c.tenant
  AND cc.unique_id = c.unique_id AND cc.leg_branch = c.leg_branch"""


def facts_query(p: flt.Params, d_from: date, d_to: date) -> tuple[str, list]:
    w = flt.Where()
    if p.tenant is not None:
        w.add("inv.tenant = ?", p.tenant)
    w.any_of(["inv.gateway"], p.values("gateway"))
    s = get_settings()
    tol = str(Decimal(s.carrier_cost_tolerance))
    m, lo, hi = bl.method(p), d_from.isoformat(), d_to.isoformat()
    return (_FACTS.format(where=w.sql()),
            [*w.args, s.timezone, m, lo, hi, lo, hi, tol, tol, s.timezone, m])


def build(con, defn: Report, p: flt.Params, d_from: date, d_to: date) -> Built:
    sql, args = facts_query(p, d_from, d_to)
    facts: dict = {}
    labels: dict[str, str] = {}
    for r in cm.records(con, f"""SELECT k, max(label) AS label, block, count(*) AS n,
        sum(inv) AS inv, sum(pbx) AS pbx, sum(diff) AS diff FROM ({sql}) f
        GROUP BY k, block""", args):  # noqa: S608 -- names and SQL fragments from code; values bound
        labels[r["k"]] = r["label"]
        facts.setdefault(r["k"], {})[r["block"]] = {
            "n": int(r["n"]), "inv": Decimal(r["inv"]), "pbx": Decimal(r["pbx"]),
            "diff": Decimal(r["diff"])}
    rows = [RowSpec(k, labels[k]) for k in sorted(labels)]
    return [RawTable("carrier", defn.text(defn.table_title, p.lang), rows, facts,
                     row_header=cm.tr(p.lang, "Gateway · month", "Gateway · mese"))], []


def _in(*blocks: str):
    return lambda b: b in blocks


register_report(Report(
    id="billing.carrier", en="Carrier reconciliation", it="Riconciliazione operatore",
    source="carrier invoice line and outgoing call (carrier_invoice_lines, carrier_matches, "
           "call_costs)",
    build=build,
    tables_doc="one row per gateway and month with invoice lines or calls of an invoice's days",
    filters=(flt.GATEWAY, bl.BILLING_METHOD),
    layout=(
        Group("lines", "Calls", "Chiamate", (
            M("matched", "matched", "abbinate", blocks=_in("ok", "mispriced"),
              doc="invoice lines matched to a call (number, start, duration)"),
            M("mispriced", "mispriced", "prezzo diverso", blocks=_in("mispriced"),
              doc="matched, costs further apart than carrier_cost_tolerance"),
            M("only_invoice", "only in the invoice", "solo in fattura", blocks=_in("invoice")),
            M("only_pbx", "only in pbxlens", "solo in pbxlens", blocks=_in("pbx"),
              doc="outgoing calls of the gateway within an invoice's days that no line "
                  "matches"))),
        Group("money", "Amount €", "Importo €", (
            M("inv", "invoice", "fattura", "money", field="inv"),
            M("pbx", "pbxlens", "pbxlens", "money", field="pbx"),
            M("diff", "difference", "differenza", "money", field="diff",
              doc="invoice − pbxlens"),
            M("diff_matched", "on matched calls", "su chiamate abbinate", "money",
              field="diff", blocks=_in("ok", "mispriced")))),
    ),
    table_title=("Carrier reconciliation", "Riconciliazione operatore"), charts_doc="none.",
    engines=("duckdb",),
    facts=drilldown.Facts(facts_query, row="k", details="own", order="unique_id",
                          extra=(("duration_s", "duration", "durata", "duration"),
                                 ("inv", "invoice €", "fattura €", "money"),
                                 ("pbx", "pbxlens €", "pbxlens €", "money"),
                                 ("diff", "difference €", "differenza €", "money"))),
    definitions=(
        ("match", "An invoice line and an outgoing call of its gateway (line or outbound "
                  "configuration) with the same number (national form), starts at most "
                  "carrier_match_window_s apart and durations at most "
                  "carrier_duration_tolerance_s apart; nearest start first, one to one."),
        ("import", "`pbxlens billing carrier import FILE --gateway NAME` (columns: setting "
                   "carrier_columns); bad lines go aside with their reason and line number."),
    ),
    totals_label=("Total", "Totale")))
