"""Nexus tariffs ("Tariffazione", nexus_modules.md C.1): CRUD, file import/export.

Every change re-rates only the calls it can affect (rating.rerate_tariffs; an edit of prices
only re-prices its tariff's calls in place, rating.reprice_tariffs). The functions run
their own transaction; the web app calls them as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import duckdb
import phonenumbers
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pbxlens import CellError
from pbxlens.billing import files, rating
from pbxlens.billing.files import BillingFileError

# File columns, in export order, with the aliases accepted on import (Nexus list labels).
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": (),
    "tenant": (),
    "company": ("azienda",),
    "description": ("descrizione",),
    "inbound_gateway": ("gateway name", "gateway_name"),
    "outbound_config": ("gateway name configurazione", "outbound_gateway_config"),
    "valid_from": ("data inizio validita", "data inizio validità"),
    "valid_to": ("data fine validita", "data fine validità"),
    "status": ("stato",),
    "answer_charge": ("scatto", "click"),
    "rate_in": ("tariffa in",),
    "rate_out": ("tariffa out",),
    "free_minutes": ("limite gratuito annuale",),
    "prefix": ("prefisso", "area code"),
    "countries": ("paesi",),
    "initial_block_s": ("initial_block",),
    "increment_s": ("increment",),
    "min_charge": ("minimo", "addebito minimo", "minimum charge"),
}
FIELDS = ("tenant", "company", "description", "inbound_gateway", "outbound_config", "valid_from",
          "valid_to", "active", "answer_charge", "rate_in", "rate_out", "free_minutes", "prefix",
          "countries", "initial_block_s", "increment_s", "min_charge")
MONEY = ("answer_charge", "rate_in", "rate_out", "min_charge")
# What a rated call pays, not which calls a tariff rates nor its free allowance.
PRICES = ("answer_charge", "rate_in", "rate_out", "min_charge", "initial_block_s", "increment_s")


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _money(v: Any) -> Decimal | None:
    d = files.parse_decimal(v)
    if d is not None and (d < 0 or d != d.quantize(Decimal("0.00001"))):
        raise CellError(f"must be >= 0 with at most 5 decimals: {v!r}", key="row_money",
                        value=repr(v))
    return d


def _count(v: Any) -> int | None:
    n = files.parse_integer(v)
    if n is not None and n < 0:
        raise CellError("must be >= 0", key="row_not_negative")
    return n


def _block(v: Any) -> int:
    return _count(v) or 0


def _increment(v: Any) -> int:
    n = _count(v)
    if n == 0:
        raise CellError("must be >= 1", key="row_at_least_one")
    return 1 if n is None else n


def _countries(v: Any) -> str | None:
    """`it; FR,de` -> `IT,FR,DE`; every code one phonenumbers knows."""
    codes = [c.strip().upper() for c in (files.text(v) or "").replace(";", ",").split(",")]
    codes = [c for c in codes if c]
    for c in codes:
        if not phonenumbers.country_code_for_region(c):
            raise CellError(f"unknown ISO country code {c!r}", key="row_unknown_country",
                            value=repr(c))
    return ",".join(codes) or None


Money = Annotated[Decimal | None, BeforeValidator(_money)]
Count = Annotated[int | None, BeforeValidator(_count)]
Day = Annotated[date | None, BeforeValidator(files.parse_day)]
Text = Annotated[str | None, BeforeValidator(files.text)]


class TariffValues(BaseModel):
    """The fields of a tariff as given (a form, a file row, code); only the given ones are
    kept (`model_dump(exclude_unset=True)`), so an update changes what it names. Fields are
    declared in the order their errors are reported."""

    model_config = ConfigDict(extra="forbid")

    answer_charge: Money = None
    rate_in: Money = None
    rate_out: Money = None
    min_charge: Money = None
    free_minutes: Count = None
    initial_block_s: Annotated[int, BeforeValidator(_block)] = 0
    increment_s: Annotated[int, BeforeValidator(_increment)] = 1
    valid_from: Day = None
    valid_to: Day = None
    tenant: Text = None
    company: Text = None
    description: Text = None
    inbound_gateway: Text = None
    outbound_config: Text = None
    prefix: Text = None
    countries: Annotated[str | None, BeforeValidator(_countries)] = None
    active: bool | None = None


class TariffFileRow(TariffValues):
    """A row of a tariff file: its id (update that tariff) and `status` (attiva / non attiva,
    blank = active) besides the fields."""

    id: Annotated[int | None, BeforeValidator(files.parse_integer)] = None
    active: Annotated[bool, BeforeValidator(files.parse_flag)] = Field(True,
                                                                        validation_alias="status")


def _reason(exc: ValidationError) -> BillingFileError:
    """The first error; the unknown fields all named at once."""
    unknown = sorted(str(e["loc"][0]) for e in exc.errors() if e["type"] == "extra_forbidden")
    if unknown:
        return BillingFileError(f"unknown tariff fields: {', '.join(unknown)}",
                                key="tariff_unknown_fields", fields=", ".join(unknown))
    why = files.reason(exc)
    return BillingFileError(why, key="row_reason", reason=why)


def _clean(values: dict[str, Any], model: type[TariffValues] = TariffValues) -> dict[str, Any]:
    try:
        return model.model_validate(values).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise _reason(exc) from None


def _save_countries(con: duckdb.DuckDBPyConnection, tariff_id: int, countries: str | None) -> None:
    con.execute("DELETE FROM billing_tariff_countries WHERE tariff_id = ?", [tariff_id])
    for c in (countries or "").split(","):
        if c:
            con.execute("INSERT INTO billing_tariff_countries VALUES (?, ?, ?)",
                        [tariff_id, c, str(phonenumbers.country_code_for_region(c))])


def _insert(con: duckdb.DuckDBPyConnection, v: dict[str, Any], tariff_id: int | None = None) -> int:
    if not v.get("description"):
        raise BillingFileError("description: required", key="required", what="description")
    if not v.get("valid_from"):
        raise BillingFileError("valid_from: required", key="required", what="valid_from")
    if v.get("valid_to") and v["valid_to"] < v["valid_from"]:
        raise BillingFileError("valid_to: before valid_from", key="tariff_valid_to_before")
    cols = [k for k in FIELDS if k in v and v[k] is not None]
    if tariff_id is not None:
        cols = ["id", *cols]
        v = {**v, "id": tariff_id}
    row = con.execute(
        f"INSERT INTO billing_tariffs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) RETURNING id",  # noqa: S608 -- names and SQL fragments from code; values bound
        [v[k] for k in cols]).fetchone()
    _save_countries(con, row[0], v.get("countries"))
    return row[0]


def prices_only(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether an edit changes only prices: the same calls keep the tariff (same conditions,
    validity, state, directions rated) and the same free seconds (same allowance)."""
    return (all(old[k] == new.get(k) for k in FIELDS if k not in PRICES and k != "description")
            and all((old[k] is None) == (new.get(k) is None) for k in ("rate_in", "rate_out")))


def rerate_changes(con: duckdb.DuckDBPyConnection,
                   changes: list[tuple[int, dict[str, Any] | None, dict[str, Any] | None]],
                   ) -> dict[str, int]:
    """Re-rate after these changes (tariff id, values before or None when added, values after
    or None when deleted): a price edit re-prices its calls in place, any other change re-rates
    what it can affect."""
    general = {t for t, old, new in changes
               if old is None or new is None or not prices_only(old, new)}
    ids = list(dict.fromkeys(t for t, *_ in changes))
    a = rating.reprice_tariffs(con, [t for t in ids if t not in general])
    b = rating.rerate_tariffs(con, [t for t in ids if t in general])
    return {"run_id": max(a["run_id"], b["run_id"]),
            **{k: a[k] + b[k] for k in ("calls", "written", "deleted")}}


def add_tariff(con: duckdb.DuckDBPyConnection, *, rerate: bool = True, **values: Any) -> int:
    """Create a tariff; re-rate the calls it can affect. Returns its id."""
    v = _clean(values)
    with transaction(con):
        tid = _insert(con, v)
        if rerate:
            rating.rerate_tariffs(con, [tid])
    return tid


def get_tariff(con: duckdb.DuckDBPyConnection, tariff_id: int) -> dict[str, Any] | None:
    rows = list_tariffs(con, ids=[tariff_id])
    return rows[0] if rows else None


def list_tariffs(con: duckdb.DuckDBPyConnection, *, company: str | None = None,
                 ids: list[int] | None = None) -> list[dict[str, Any]]:
    sql = f"SELECT id, {', '.join(FIELDS)} FROM billing_tariffs WHERE true"  # noqa: S608 -- names and SQL fragments from code; values bound
    params: list[Any] = []
    if company is not None:
        sql += " AND company = ?"
        params.append(company)
    if ids is not None:
        sql += f" AND id IN ({', '.join('?' * len(ids))})" if ids else " AND false"
        params += list(ids)
    cur = con.execute(sql + " ORDER BY valid_from, id", params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def update_tariff(con: duckdb.DuckDBPyConnection, tariff_id: int, **values: Any) -> None:
    """Change some fields of a tariff; re-rate what the old and the new version touch."""
    current = get_tariff(con, tariff_id)
    if current is None:
        raise BillingFileError(f"no tariff {tariff_id}")
    v = {**{k: current[k] for k in FIELDS}, **_clean(values)}
    with transaction(con):
        con.execute("DELETE FROM billing_tariffs WHERE id = ?", [tariff_id])
        _insert(con, v, tariff_id)
        con.execute("UPDATE billing_tariffs SET updated_at = current_timestamp WHERE id = ?", [tariff_id])
        rerate_changes(con, [(tariff_id, current, v)])


def delete_tariff(con: duckdb.DuckDBPyConnection, tariff_id: int) -> None:
    with transaction(con):
        con.execute("DELETE FROM billing_tariffs WHERE id = ?", [tariff_id])
        con.execute("DELETE FROM billing_tariff_countries WHERE tariff_id = ?", [tariff_id])
        rating.rerate_tariffs(con, [tariff_id])


def _from_file_row(row: dict[str, Any], n: int) -> tuple[int | None, dict[str, Any]]:
    got: dict[str, Any] = {"status": None}  # no status column: active
    for col, aliases in COLUMNS.items():
        for name in (col, *aliases):
            if name in row:
                got[col] = row[name]
                break
    try:
        v = _clean(got, TariffFileRow)
    except BillingFileError as exc:
        raise BillingFileError(f"row {n + 1}: {exc}", key="row_n_reason", row=n + 1,
                               reason=exc) from None
    return v.pop("id", None), v


def import_tariffs(con: duckdb.DuckDBPyConnection, path: Path, *,
                   tenant: str | None = None) -> dict[str, int]:
    """Insert or update (by id) every tariff of a CSV/XLSX file (columns: COLUMNS), then re-rate
    only the calls the added or changed tariffs can affect (not the whole store)."""
    parsed = [_from_file_row(r, n) for n, r in enumerate(files.read_rows(path), start=1)]
    if tenant is not None:  # the web app imports into the user's tenant only
        for n, (tid, v) in enumerate(parsed, start=2):
            v["tenant"] = tenant
            row = con.execute("SELECT tenant FROM billing_tariffs WHERE id = ?", [tid]).fetchone()
            if tid is not None and row and row[0] != tenant:
                raise BillingFileError(f"row {n}: tariff {tid} belongs to another tenant",
                                       key="tariff_other_tenant", row=n, tariff=str(tid))
    added = updated = 0
    touched: list[tuple[int, dict[str, Any] | None, dict[str, Any]]] = []
    with transaction(con):
        for tid, v in parsed:
            exists = con.execute("SELECT 1 FROM billing_tariffs WHERE id = ?", [tid]).fetchone()
            if tid is not None and exists:
                current = {k: get_tariff(con, tid)[k] for k in FIELDS}
                merged = {**current, **v}
                if merged == current:
                    continue  # unchanged row: nothing to re-rate (importing twice is a no-op)
                con.execute("DELETE FROM billing_tariffs WHERE id = ?", [tid])
                touched.append((_insert(con, merged, tid), current, merged))
                updated += 1
            else:
                touched.append((_insert(con, v, tid), None, v))
                added += 1
        if any(tid is not None for tid, _ in parsed):  # keep the sequence ahead of explicit ids
            top = con.execute("SELECT max(id) FROM billing_tariffs").fetchone()[0] or 0
            while con.execute("SELECT nextval('billing_tariff_seq')").fetchone()[0] <= top:
                pass
        # only the calls the new and changed tariffs can touch (their old calls included)
        stats = rerate_changes(con, touched)
    return {"added": added, "updated": updated, **stats}


def export_tariffs(con: duckdb.DuckDBPyConnection, path: Path, *, tenant: str | None = None) -> int:
    """Every tariff (with `tenant`: that tenant's and the all-tenant ones) as CSV or XLSX."""
    rows = [r for r in list_tariffs(con) if tenant is None or r["tenant"] in (None, tenant)]
    header = list(COLUMNS)
    out = []
    for t in rows:
        t = {**t, "status": "attiva" if t["active"] else "non attiva"}
        out.append([t.get(c) for c in header])
    money = "0.00000"
    files.write_rows(path, header, out, number_formats={k: money for k in MONEY})
    return len(out)

