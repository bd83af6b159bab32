"""Multiservice (nexus_modules.md C.5): bill calls to customers as services, next to other
contracted services whose quantities are entered by hand.

- a *service* has a name, a kind (`calls_in`, `calls_out` or `units`), a rate (EUR per minute
  for calls, per unit otherwise), a free limit (minutes for calls, units otherwise: BL-10) and
  an answer charge (calls only);
- a *contract* gives a company its period ("competenza"); a company with a contract gets one
  line per service of its tenant;
- calls are counted automatically: the company's answered calls (its operators' calls, the
  same rule as rating, BL-7) of the service's direction with start in the contract period
  intersected with the asked range; quantity = calls, time = Σ billed seconds (bill_secs
  rounded up, as rating);
- call cost = calls × answer charge + rate × max(0, seconds − free minutes × 60) / 60;
  unit cost = max(0, Σ quantity − free) × rate; both rounded once, half-up, to 5 decimals
  (like per-call costs); the company total = Σ service costs (C.5).
Quantities count when their period overlaps the contract period ∩ the asked range.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from pbxlens.billing import files
from pbxlens.billing.files import BillingFileError
from pbxlens.billing.rating import company_joins
from pbxlens.billing.tariffs import transaction

KINDS = ("calls_in", "calls_out", "units")
SERVICE_FIELDS = ("tenant", "name", "kind", "rate", "free_limit", "answer_charge")


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _money(v: Any, what: str, *, required: bool = False) -> Decimal | None:
    d = files.decimal(v, what)
    if d is None:
        if required:
            raise BillingFileError(f"{what}: required")
        return None
    if d < 0 or d != d.quantize(Decimal("0.00001")):
        raise BillingFileError(f"{what}: must be >= 0 with at most 5 decimals: {v!r}")
    return d


def _service_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(SERVICE_FIELDS)
    if unknown:
        raise BillingFileError(f"unknown service fields: {', '.join(sorted(unknown))}")
    v = dict(values)
    if "name" in v:
        v["name"] = files.text(v["name"])
        if not v["name"]:
            raise BillingFileError("name: required")
    if "kind" in v:
        v["kind"] = (files.text(v["kind"]) or "units").lower()
        if v["kind"] not in KINDS:
            raise BillingFileError(f"kind: one of {', '.join(KINDS)}: {v['kind']!r}")
    if "rate" in v:
        v["rate"] = _money(v["rate"], "rate", required=True)
    if "answer_charge" in v:
        v["answer_charge"] = _money(v["answer_charge"], "answer_charge")
    if "free_limit" in v:
        n = files.integer(v["free_limit"], "free_limit")
        if n is not None and n < 0:
            raise BillingFileError("free_limit: must be >= 0")
        v["free_limit"] = n or 0
    return v


def add_service(con: duckdb.DuckDBPyConnection, *, tenant: str = "default", **values: Any) -> int:
    v = _service_values({"tenant": tenant, "kind": "units", "free_limit": 0, **values})
    if v.get("answer_charge") is not None and v["kind"] == "units":
        raise BillingFileError("answer_charge: only call services have an answer charge")
    if con.execute("SELECT 1 FROM billing_services WHERE tenant = ? AND name = ?",
                   [v["tenant"], v["name"]]).fetchone():
        raise BillingFileError(f"a service named {v['name']!r} exists already")
    cols = [k for k in SERVICE_FIELDS if v.get(k) is not None]
    return con.execute(
        f"INSERT INTO billing_services ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "  # noqa: S608 -- names and SQL fragments from code; values bound
        "RETURNING id", [v[k] for k in cols]).fetchone()[0]


def delete_service(con: duckdb.DuckDBPyConnection, service_id: int) -> None:
    with transaction(con):
        con.execute("DELETE FROM billing_service_quantities WHERE service_id = ?", [service_id])
        con.execute("DELETE FROM billing_services WHERE id = ?", [service_id])


def list_services(con: duckdb.DuckDBPyConnection, *, tenant: str | None = None,
                  ids: list[int] | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, tenant, name, kind, rate, free_limit, answer_charge FROM billing_services WHERE true"
    args: list[Any] = []
    if tenant is not None:
        sql += " AND tenant = ?"
        args.append(tenant)
    if ids is not None:
        sql += f" AND id IN ({', '.join('?' * len(ids))})" if ids else " AND false"
        args += ids
    return _rows(con.execute(sql + " ORDER BY kind <> 'calls_in', kind <> 'calls_out', name", args))


def set_contract(con: duckdb.DuckDBPyConnection, company: str, valid_from: Any,
                 valid_to: Any = None, *, tenant: str = "default") -> None:
    """Create or replace a company's contract period (competenza)."""
    company = files.text(company) or ""
    if not company:
        raise BillingFileError("company: required")
    lo, hi = files.day(valid_from, "valid_from"), files.day(valid_to, "valid_to")
    if lo is None:
        raise BillingFileError("valid_from: required")
    if hi is not None and hi < lo:
        raise BillingFileError("valid_to: before valid_from")
    with transaction(con):
        con.execute("DELETE FROM billing_contracts WHERE tenant = ? AND company = ?", [tenant, company])
        con.execute("INSERT INTO billing_contracts VALUES (?, ?, ?, ?)", [tenant, company, lo, hi])


def delete_contract(con: duckdb.DuckDBPyConnection, company: str, *, tenant: str = "default") -> None:
    with transaction(con):
        con.execute("DELETE FROM billing_contracts WHERE tenant = ? AND company = ?", [tenant, company])


def list_contracts(con: duckdb.DuckDBPyConnection, *, tenant: str | None = None) -> list[dict[str, Any]]:
    sql = ("SELECT c.tenant, c.company, coalesce(o.name, c.company) AS company_name, c.valid_from, "
           "c.valid_to FROM billing_contracts c LEFT JOIN organizations o ON o.tenant = c.tenant "
           "AND o.id = c.company")
    args: list[Any] = []
    if tenant is not None:
        sql += " WHERE c.tenant = ?"
        args.append(tenant)
    return _rows(con.execute(sql + " ORDER BY company_name", args))


def add_quantity(con: duckdb.DuckDBPyConnection, company: str, service_id: int, period_from: Any,
                 period_to: Any, quantity: Any, *, tenant: str = "default") -> int:
    """Enter a quantity of a non-call service for a company and a period."""
    company = files.text(company) or ""
    svc = list_services(con, ids=[int(service_id)])
    if not svc or svc[0]["tenant"] != tenant:
        raise BillingFileError(f"no service {service_id}")
    if svc[0]["kind"] != "units":
        raise BillingFileError(f"{svc[0]['name']}: calls are counted from the CDR, not entered")
    lo, hi = files.day(period_from, "period_from"), files.day(period_to, "period_to")
    if lo is None or hi is None:
        raise BillingFileError("period_from and period_to: required")
    if hi < lo:
        raise BillingFileError("period_to: before period_from")
    q = files.integer(quantity, "quantity")
    if q is None or q < 0:
        raise BillingFileError("quantity: a whole number >= 0")
    if not con.execute("SELECT 1 FROM billing_contracts WHERE tenant = ? AND company = ?",
                       [tenant, company]).fetchone():
        raise BillingFileError(f"{company!r} has no contract: set its period first")
    return con.execute(
        "INSERT INTO billing_service_quantities (tenant, company, service_id, period_from, period_to,"
        " quantity) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [tenant, company, int(service_id), lo, hi, q]).fetchone()[0]


def delete_quantity(con: duckdb.DuckDBPyConnection, quantity_id: int) -> None:
    con.execute("DELETE FROM billing_service_quantities WHERE id = ?", [quantity_id])


def list_quantities(con: duckdb.DuckDBPyConnection, *, tenant: str | None = None) -> list[dict[str, Any]]:
    sql = ("SELECT q.id, q.tenant, q.company, s.name AS service, q.period_from, q.period_to, "
           "q.quantity FROM billing_service_quantities q JOIN billing_services s ON s.id = q.service_id")
    args: list[Any] = []
    if tenant is not None:
        sql += " WHERE q.tenant = ?"
        args.append(tenant)
    return _rows(con.execute(sql + " ORDER BY q.company, q.period_from, s.name", args))


# ----------------------------------------------------------------------------- valuation

# One row per (contract, service): quantity, seconds (calls), cost. Money in integer
# hundred-thousandths inside the SQL (exact), DECIMAL(18, 5) out.
LINES_SQL = f"""
WITH ct AS (
  SELECT c.tenant, c.company, coalesce(o.name, c.company) AS company_name,
    c.valid_from, c.valid_to,
    greatest(c.valid_from, CAST(? AS DATE)) AS lo,
    least(coalesce(c.valid_to, CAST(? AS DATE)), CAST(? AS DATE)) AS hi
  FROM billing_contracts c LEFT JOIN organizations o ON o.tenant = c.tenant AND o.id = c.company
  WHERE c.valid_from <= CAST(? AS DATE) AND (c.valid_to IS NULL OR c.valid_to >= CAST(? AS DATE)) {{cwhere}}),
calls_c AS (
  SELECT c.tenant, CASE WHEN c.direction = 'incoming' THEN 'calls_in' ELSE 'calls_out' END AS kind,
    CAST(c.start_local AS DATE) AS day, CAST(ceil(c.bill_s) AS BIGINT) AS s,
    coalesce(op.organization, '') AS company, org.name AS company_name
  FROM calls c {company_joins("c")}
  WHERE c.direction IN ('incoming', 'outgoing') AND c.bill_s > 0
    AND c.start_local >= CAST(? AS DATE) AND c.start_local < CAST(? AS DATE) + INTERVAL 1 DAY {{tw}}),
calls_m AS (
  SELECT ct.tenant, ct.company, k.kind, count(*) AS n, sum(k.s) AS s
  FROM ct JOIN calls_c k ON k.tenant = ct.tenant AND k.day >= ct.lo AND k.day <= ct.hi
    AND (k.company = ct.company OR k.company_name = ct.company)
  GROUP BY ct.tenant, ct.company, k.kind),
qty AS (
  SELECT ct.tenant, ct.company, q.service_id, sum(q.quantity) AS n
  FROM ct JOIN billing_service_quantities q ON q.tenant = ct.tenant AND q.company = ct.company
    AND q.period_from <= ct.hi AND q.period_to >= ct.lo
  GROUP BY ct.tenant, ct.company, q.service_id),
lines AS (
  SELECT ct.tenant, ct.company, ct.company_name, ct.valid_from, ct.valid_to, s.id AS service_id,
    s.name AS service, s.kind,
    CAST(CASE WHEN s.kind = 'units' THEN coalesce(q.n, 0) ELSE coalesce(m.n, 0) END AS BIGINT) AS qty,
    CAST(CASE WHEN s.kind = 'units' THEN 0 ELSE coalesce(m.s, 0) END AS BIGINT) AS secs,
    CAST(s.rate * 100000 AS BIGINT) AS r_u, CAST(coalesce(s.answer_charge, 0) * 100000 AS BIGINT) AS a_u,
    s.free_limit
  FROM ct JOIN billing_services s ON s.tenant = ct.tenant
  LEFT JOIN calls_m m ON m.tenant = ct.tenant AND m.company = ct.company AND m.kind = s.kind
  LEFT JOIN qty q ON q.tenant = ct.tenant AND q.company = ct.company AND q.service_id = s.id)
SELECT tenant, company, company_name, valid_from, valid_to, service_id, service, kind, qty, secs,
  CAST(CAST(CASE WHEN kind = 'units' THEN greatest(0, qty - free_limit) * r_u
       ELSE qty * a_u + (r_u * greatest(0, secs - free_limit * 60) + 30) // 60 END AS DECIMAL(18, 0))
       * CAST(0.00001 AS DECIMAL(6, 5)) AS DECIMAL(18, 5)) AS cost
FROM lines
ORDER BY company_name, company, kind <> 'calls_in', kind <> 'calls_out', service"""  # noqa: S608 -- names and SQL fragments from code; values bound


def lines(con: duckdb.DuckDBPyConnection, date_from: date, date_to: date, *,
          companies: list[str] | None = None, tenant: str | None = None) -> list[dict[str, Any]]:
    """The billing lines ("Fatturazione") of every contract overlapping [date_from, date_to]."""
    cw, tw, cargs, targs = "", "", [], []
    if tenant is not None:
        cw += " AND c.tenant = ?"
        cargs.append(tenant)
        tw += " AND c.tenant = ?"
        targs.append(tenant)
    if companies:
        ph = ", ".join("?" * len(companies))
        cw += f" AND (c.company IN ({ph}) OR o.name IN ({ph}))"
        cargs += [*companies, *companies]
    lo, hi = date_from, date_to
    sql = LINES_SQL.format(cwhere=cw, tw=tw)
    return _rows(con.execute(sql, [lo, hi, hi, hi, lo, *cargs, lo, hi, *targs]))
