"""Tariff consumption (nexus_modules.md C.3) and the finance breakdowns (C.4), as plain rows.

Sums are exact Decimals of the stored 5-dp per-call costs; nothing is rounded here (display
rounds to 2 dp; every total equals the sum of the per-call costs).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb


def _where(*conditions: tuple[str, Any]) -> tuple[list[str], list[Any]]:
    """The predicates whose value is given (None = no filter), with their bound values."""
    kept = [(sql, value) for sql, value in conditions if value is not None]
    return [sql for sql, _v in kept], [v for _s, v in kept]


def consumption(con: duckdb.DuckDBPyConnection, *, year: int | None = None, date_from: date | None = None,
                date_to: date | None = None, company: str | None = None) -> list[dict[str, Any]]:
    """One row per (tariff, company, direction in|out|total): calls, seconds, cost, hypothetical
    cost; with free_used_s (the pool's free seconds used in the year) / free_limit_s and pct."""
    where, params = _where(("cc.method = ?", "tariff"), ("cc.yr = ?", year),
                           ("cc.day >= ?", date_from), ("cc.day <= ?", date_to),
                           ("cc.company = ?", company))
    sql = f"""
SELECT cc.tariff_id, t.description, cc.company, coalesce(cc.direction, 'total') AS direction,
  count(*) AS calls, sum(cc.billed_s) AS seconds, sum(cc.cost) AS cost, sum(cc.cost_nofree) AS cost_nofree,
  sum(cc.free_s) AS free_used_s, CAST(coalesce(t.free_minutes, 0) * 60 AS BIGINT) AS free_limit_s
FROM call_costs cc LEFT JOIN billing_tariffs t ON t.id = cc.tariff_id
WHERE {' AND '.join(where)}
GROUP BY GROUPING SETS ((cc.tariff_id, t.description, t.free_minutes, cc.company, cc.direction),
                        (cc.tariff_id, t.description, t.free_minutes, cc.company))
ORDER BY cc.tariff_id, cc.company, direction"""  # noqa: S608 -- names and SQL fragments from code; values bound
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        row["seconds"] = int(row["seconds"] or 0)
        row["free_used_s"] = int(row["free_used_s"] or 0)
        lim = row["free_limit_s"]
        row["free_pct"] = round(100 * row["free_used_s"] / lim) if lim else None
        out.append(row)
    return out


BREAKDOWNS: dict[str, tuple[str, str]] = {
    # name: (SQL key expression over cc/op/org/cen/div, sheet title)
    "month": ("strftime(cc.day, '%Y-%m')", "Month"),
    "date": ("CAST(cc.day AS TEXT)", "Date"),
    "organization": ("coalesce(org.name, nullif(cc.company, ''), '(none)')", "Organization"),
    "gateway": ("coalesce(cc.gateway, '(none)')", "Gateway"),
    "operator": ("coalesce(cc.extension || ' ' || coalesce(op.name, ''), '(none)')", "Operator"),
    "cost_center": ("coalesce(cen.name, op.cost_center, '(none)')", "Cost center"),
    "division": ("coalesce(dv.name, op.division, '(none)')", "Division"),
}
MEASURES = ("calls", "calls_in", "calls_out", "seconds", "seconds_in", "seconds_out", "cost_in",
            "cost_out", "cost", "cost_nofree_in", "cost_nofree_out", "cost_nofree")
NONE_KEY = "(none)"


def _calls(where_cc: list[str], where_c: list[str], with_unrated: bool) -> str:
    """Every answered inbound/outbound call of the scope once, with its rating: the rated rows
    of `call_costs` (method), then, when `with_unrated`, the answered calls no tariff or
    profile valued (cost 0, nexus_modules.md C.2: "cost = null, shown as 0 in sums") with the
    day, company, extension and gateway the rating would give them."""
    from pbxlens.billing.rating import company_joins

    rated = f"""SELECT cc.tenant, cc.unique_id, cc.leg_branch, cc.direction, cc.day, cc.company,
  cc.extension, cc.gateway, cc.billed_s, cc.cost, cc.cost_nofree
FROM call_costs cc WHERE {' AND '.join(where_cc)}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    if not with_unrated:
        return rated
    zero = "CAST(0 AS DECIMAL(18, 5))"
    return f"""{rated}
UNION ALL
SELECT c.tenant, c.unique_id, c.leg_branch,
  CASE WHEN c.direction = 'incoming' THEN 'in' ELSE 'out' END, CAST(c.start_local AS DATE),
  coalesce(op.organization, ''), op.extension,
  CASE WHEN c.direction = 'incoming' THEN c.gateway_name ELSE coalesce(o.cfg, c.gateway_name) END,
  CAST(ceil(c.bill_s) AS INTEGER), {zero}, {zero}
FROM calls c
{company_joins("c")}
LEFT JOIN (SELECT tenant, unique_id, leg_branch, arg_max(dest_id, seq) AS cfg FROM call_legs
           WHERE dest_type = 'obl' GROUP BY ALL) o
  ON o.tenant = c.tenant AND o.unique_id = c.unique_id AND o.leg_branch = c.leg_branch
WHERE c.direction IN ('incoming', 'outgoing') AND c.bill_s > 0 AND {' AND '.join(where_c)}
  AND NOT EXISTS (SELECT 1 FROM call_costs r WHERE r.method = ? AND r.tenant = c.tenant
                  AND r.unique_id = c.unique_id AND r.leg_branch = c.leg_branch)"""  # noqa: S608 -- names and SQL fragments from code; values bound


def breakdown(con: duckdb.DuckDBPyConnection, by: str, *, date_from: date | None = None,
              date_to: date | None = None, method: str = "tariff",
              tenant: str | None = None, with_unrated: bool = False) -> list[dict[str, Any]]:
    """The 12 dashboard measures per key of one breakdown (C.4), sorted by key. Sums are exact
    (the stored 5-dp per-call costs). `with_unrated`: count the answered calls no tariff
    valued too (at cost 0), as the finance workbook does."""
    if method not in ("tariff", "profile"):
        raise ValueError(f"unknown rating method {method!r}")
    key = BREAKDOWNS[by][0]
    w_cc, p_cc = _where(("cc.method = ?", method), ("cc.tenant = ?", tenant),
                        ("cc.day >= ?", date_from), ("cc.day <= ?", date_to))
    w_c, p_c = _where(("c.tenant = ?", tenant),
                      ("CAST(c.start_local AS DATE) >= ?", date_from),
                      ("CAST(c.start_local AS DATE) <= ?", date_to))
    w_c = w_c or ["true"]
    zero = "CAST(0 AS DECIMAL(18, 5))"
    sql = f"""
SELECT {key} AS key, count(*) AS calls,
  count(*) FILTER (WHERE cc.direction = 'in') AS calls_in,
  count(*) FILTER (WHERE cc.direction = 'out') AS calls_out,
  sum(cc.billed_s) AS seconds,
  coalesce(sum(cc.billed_s) FILTER (WHERE cc.direction = 'in'), 0) AS seconds_in,
  coalesce(sum(cc.billed_s) FILTER (WHERE cc.direction = 'out'), 0) AS seconds_out,
  coalesce(sum(cc.cost) FILTER (WHERE cc.direction = 'in'), {zero}) AS cost_in,
  coalesce(sum(cc.cost) FILTER (WHERE cc.direction = 'out'), {zero}) AS cost_out,
  sum(cc.cost) AS cost,
  coalesce(sum(cc.cost_nofree) FILTER (WHERE cc.direction = 'in'), {zero}) AS cost_nofree_in,
  coalesce(sum(cc.cost_nofree) FILTER (WHERE cc.direction = 'out'), {zero}) AS cost_nofree_out,
  sum(cc.cost_nofree) AS cost_nofree
FROM ({_calls(w_cc, w_c, with_unrated)}) cc
LEFT JOIN operators op ON op.tenant = cc.tenant AND op.extension = cc.extension
LEFT JOIN organizations org ON org.tenant = cc.tenant AND org.id = cc.company
LEFT JOIN cost_centers cen ON cen.tenant = op.tenant AND cen.id = op.cost_center
LEFT JOIN divisions dv ON dv.tenant = op.tenant AND dv.id = op.division
GROUP BY key ORDER BY key"""  # noqa: S608 -- names and SQL fragments from code; values bound
    cur = con.execute(sql, p_cc + ([*p_c, method] if with_unrated else []))
    names = [d[0] for d in cur.description]
    rows = []
    for r in cur.fetchall():
        row = dict(zip(names, r, strict=True))
        for m in MEASURES:
            if m.startswith("cost"):
                row[m] = Decimal(row[m] or 0)
            else:
                row[m] = int(row[m] or 0)
        rows.append(row)
    return rows


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {m: sum((r[m] for r in rows), Decimal(0) if m.startswith("cost") else 0) for m in MEASURES}
