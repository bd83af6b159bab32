"""Unrated calls: ratable calls (answered incoming/outgoing, bill_secs > 0: `rating_calls`)
that the rating engine gave no cost under a method. An error to fix, never a zero cost: the
report billing.unrated lists them, the finance export refuses or marks a period holding any
(setting billing_unrated), the billing home counts them.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pbxlens.billing.rating import key_company_joins

# One row per unrated call of a day range under a method (args: first day, last day, method,
# method); `{where}` adds filters over rc (rating_calls), k (rating_keys), op, org. Under
# billing profiles only outgoing calls count (profiles value nothing else).
FACTS = f"""
SELECT rc.tenant, rc.unique_id, rc.leg_branch, coalesce(k.gw, '') AS k,
  coalesce(k.gw, '(none)') AS label, k.dir AS block, rc.s AS billed_s, rc.day
FROM rating_calls rc JOIN rating_keys k ON k.kid = rc.kid
{key_company_joins("k")}
WHERE rc.day >= CAST(? AS DATE) AND rc.day <= CAST(? AS DATE)
  AND NOT EXISTS (SELECT 1 FROM call_costs cc WHERE cc.method = ? AND cc.tenant = rc.tenant
    AND cc.unique_id = rc.unique_id AND cc.leg_branch = rc.leg_branch
    AND cc.day = rc.day)
  AND (k.dir = 'out' OR ? = 'tariff') {{where}}"""  # noqa: S608 -- names and SQL fragments from code; values bound


def count(con: duckdb.DuckDBPyConnection, d_from: date | None, d_to: date | None, *,
          tenant: str | None = None, method: str = "tariff") -> int:
    """How many ratable calls of the days (PBX local, inclusive; None = unbounded) of
    `tenant` (None = every tenant) have no cost under `method`."""
    lo, hi = d_from or date(1900, 1, 1), d_to or date(9999, 12, 31)
    where = "AND (CAST(? AS TEXT) IS NULL OR rc.tenant = ?)"
    return int(con.execute(f"SELECT count(*) FROM ({FACTS.format(where=where)})",  # noqa: S608 -- names and SQL fragments from code; values bound
                           [lo.isoformat(), hi.isoformat(), method, method, tenant, tenant]
                           ).fetchone()[0])
