"""Bundles of minutes: a flat fee per month that includes minutes, plus the overage.

A bundle (table billing_bundles) bills the calls one tariff values, per company and calendar
month: `minutes` are included for `flat_fee`; the charged seconds beyond them (call_costs
.charged_s: after the tariff's initial block and increments) are the overage, priced at
`overage_rate` per minute and rounded once per month, half-up, to 5 decimals. Without rollover
each month starts again from `minutes`; with rollover the unused minutes carry over to the next
months of the same calendar year (January starts from `minutes` again).

The carried minutes follow the recursion carried(m) = max(0, carried(m-1) + B - S(m-1)) (B the
bundle's seconds, S the charged seconds of a month), whose closed form is
carried(m) = P(m) - min_{k <= m} P(k) with P(m) = sum_{j < m} (B - S(j)): two window functions
over the months, set-based for every company and bundle at once.

A pool (bundle, company, year) is billed from its first month (January, or the bundle's
valid_from) for every month up to the end asked for, with or without calls, once the company
has a call of the tariff that year (a bundle of one company: every month of its validity).
The per-call costs of call_costs stay the pay-per-use costs (reports billing.*).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from pbxlens.billing import files
from pbxlens.billing.files import BillingFileError

FIELDS = ("tenant", "company", "description", "tariff_id", "minutes", "rollover", "flat_fee",
          "overage_rate", "valid_from", "valid_to")


def _clean(v: dict[str, Any]) -> dict[str, Any]:
    unknown = set(v) - set(FIELDS)
    if unknown:
        raise BillingFileError(f"unknown bundle fields: {', '.join(sorted(unknown))}")
    out = dict(v)
    for k in ("flat_fee", "overage_rate"):
        d = files.decimal(out.get(k), k)
        if d is None and k == "overage_rate":
            raise BillingFileError("overage_rate: required")
        if d is not None and (d < 0 or d != d.quantize(Decimal("0.00001"))):
            raise BillingFileError(f"{k}: must be >= 0 with at most 5 decimals")
        out[k] = d if d is not None else Decimal(0)
    for k in ("minutes", "tariff_id"):
        out[k] = files.integer(out.get(k), k)
        if out[k] is None or out[k] < 0:
            raise BillingFileError(f"{k}: a whole number >= 0 is required")
    for k in ("valid_from", "valid_to"):
        out[k] = files.day(out.get(k), k)
    if out["valid_from"] is None:
        raise BillingFileError("valid_from: required")
    if out["valid_to"] is not None and out["valid_to"] < out["valid_from"]:
        raise BillingFileError("valid_to: before valid_from")
    if not files.text(out.get("description")):
        raise BillingFileError("description: required")
    out["rollover"] = bool(out.get("rollover"))
    out["tenant"] = files.text(out.get("tenant")) or "default"
    out["company"] = files.text(out.get("company"))
    return out


def add_bundle(con: duckdb.DuckDBPyConnection, **values: Any) -> int:
    """Create a bundle; returns its id (nothing to re-rate: bundles bill stored costs)."""
    v = _clean(values)
    if not con.execute("SELECT 1 FROM billing_tariffs WHERE id = ?", [v["tariff_id"]]).fetchone():
        raise BillingFileError(f"tariff_id: no tariff {v['tariff_id']}")
    cols = list(FIELDS)
    return con.execute(f"INSERT INTO billing_bundles ({', '.join(cols)}) VALUES "  # noqa: S608 -- names and SQL fragments from code; values bound
                       f"({', '.join('?' * len(cols))}) RETURNING id",
                       [v[k] for k in cols]).fetchone()[0]


def delete_bundle(con: duckdb.DuckDBPyConnection, bundle_id: int) -> None:
    con.execute("DELETE FROM billing_bundles WHERE id = ?", [bundle_id])


def list_bundles(con: duckdb.DuckDBPyConnection, *, tenant: str | None = None) -> list[dict]:
    cur = con.execute(f"SELECT id, {', '.join(FIELDS)} FROM billing_bundles WHERE "  # noqa: S608 -- names and SQL fragments from code; values bound
                      "CAST(? AS TEXT) IS NULL OR tenant = ? ORDER BY id", [tenant, tenant])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# Per (bundle, company, month): calls, charged seconds, carried-in, covered, overage and money
# (integer hundred-thousandths inside, as in rating.py). Args: tenant, tenant, first day of
# the range, last day, first day, last day.
STATEMENT = """
WITH b AS (
  SELECT b.*, CAST(b.minutes AS BIGINT) * 60 AS bs, CAST(b.flat_fee * 100000 AS BIGINT) AS fee_u,
    CAST(b.overage_rate * 100000 AS BIGINT) AS rate_u,
    (SELECT min(o.id) FROM organizations o WHERE o.tenant = b.tenant AND o.name = b.company)
      AS company_id
  FROM billing_bundles b WHERE CAST(? AS TEXT) IS NULL OR b.tenant = ?),
lim AS (SELECT date_trunc('year', CAST(? AS DATE)) AS y0, CAST(? AS DATE) AS d1),
used AS (
  SELECT b.id AS bid, cc.company, CAST(date_trunc('month', cc.day) AS DATE) AS m,
    count(*) AS n, sum(cc.charged_s) AS s, sum(cc.cost) AS payg
  FROM b CROSS JOIN lim JOIN call_costs cc ON cc.method = 'tariff' AND cc.tariff_id = b.tariff_id
    AND cc.tenant = b.tenant
    AND (b.company IS NULL OR cc.company = b.company OR cc.company = b.company_id)
    AND cc.day >= b.valid_from AND (b.valid_to IS NULL OR cc.day <= b.valid_to)
    AND cc.day >= lim.y0 AND cc.day <= lim.d1
  GROUP BY ALL),
pools AS (
  SELECT DISTINCT bid, company, year(m) AS y FROM used
  UNION
  SELECT b.id, coalesce(b.company_id, b.company), y.y FROM b CROSS JOIN lim
  CROSS JOIN (SELECT unnest(range(year(lim.y0), year(lim.d1) + 1)) AS y FROM lim) y
  WHERE b.company IS NOT NULL AND y.y BETWEEN year(b.valid_from)
    AND year(coalesce(b.valid_to, lim.d1))),
months AS (
  SELECT p.bid, p.company, p.y, CAST(unnest(generate_series(
      CAST(date_trunc('month', greatest(make_date(p.y, 1, 1), b.valid_from)) AS TIMESTAMP),
      CAST(date_trunc('month', least(make_date(p.y, 12, 31), lim.d1,
                                     coalesce(b.valid_to, lim.d1))) AS TIMESTAMP),
      INTERVAL 1 MONTH)) AS DATE) AS m
  FROM pools p JOIN b ON b.id = p.bid CROSS JOIN lim),
g AS (
  SELECT mo.*, b.description, b.rollover, b.bs, b.fee_u, b.rate_u,
    coalesce(u.n, 0) AS n, coalesce(u.s, 0) AS s, coalesce(u.payg, 0) AS payg,
    coalesce(sum(b.bs - coalesce(u.s, 0)) OVER w_before, 0) AS p
  FROM months mo JOIN b ON b.id = mo.bid
  LEFT JOIN used u ON u.bid = mo.bid AND u.company IS NOT DISTINCT FROM mo.company AND u.m = mo.m
  WINDOW w_before AS (PARTITION BY mo.bid, mo.company, mo.y ORDER BY mo.m
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
c AS (
  SELECT g.*, CASE WHEN g.rollover THEN g.p - min(g.p) OVER (
      PARTITION BY g.bid, g.company, g.y ORDER BY g.m
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) ELSE 0 END AS carried
  FROM g),
o AS (
  SELECT c.*, least(c.s, c.bs + c.carried) AS covered,
    c.s - least(c.s, c.bs + c.carried) AS over_s FROM c)
SELECT o.bid AS bundle_id, o.description, o.company, org.name AS company_name, o.m AS month,
  o.n AS calls, o.s AS charged_s, o.bs AS bundle_s, o.carried AS carried_s, o.covered AS covered_s,
  CASE WHEN o.rollover THEN o.bs + o.carried - o.covered ELSE 0 END AS carried_out_s,
  o.over_s, o.rollover,
  CAST(o.payg AS DECIMAL(18, 5)) AS payg,
  CAST(CAST(o.fee_u AS DECIMAL(18, 0)) * 0.00001 AS DECIMAL(18, 5)) AS fee,
  CAST(CAST((o.rate_u * o.over_s + 30) // 60 AS DECIMAL(18, 0)) * 0.00001 AS DECIMAL(18, 5))
    AS overage,
  CAST(CAST(o.fee_u + (o.rate_u * o.over_s + 30) // 60 AS DECIMAL(18, 0)) * 0.00001
    AS DECIMAL(18, 5)) AS total
FROM o LEFT JOIN b ON b.id = o.bid
LEFT JOIN organizations org ON org.tenant = b.tenant AND org.id = o.company
WHERE o.m >= date_trunc('month', CAST(? AS DATE)) AND o.m <= CAST(? AS DATE)
ORDER BY o.description, o.bid, o.company, o.m"""


def statement(con: duckdb.DuckDBPyConnection, d_from: date, d_to: date, *,
              tenant: str | None = None) -> list[dict[str, Any]]:
    """One row per bundle, company and month of [d_from, d_to] (months from the first day's
    month): calls, charged seconds, the bundle's seconds, carried in and out, covered,
    overage seconds, flat fee, overage cost, total, and the pay-per-use cost for comparison."""
    cur = con.execute(STATEMENT, [tenant, tenant, d_from, d_to, d_from, d_to])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
