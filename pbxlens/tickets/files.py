"""Import and export of the module's files (nexus_modules.md B.3 "Actions menu").

Imports (companies and contacts; tickets) read XLSX or CSV, validate every row and return a
report of the rejected rows with their line and reason. The whole import is one transaction:
each row is written completely or not at all, and with `strict` a single rejected row writes
nothing. Exports write the grid's visible columns, in order, as XLSX (typed cells: dates as
dates, tracking as an Excel duration) or CSV.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError

from pbxlens import PbxlensError, Reason
from pbxlens.config import get_settings
from pbxlens.store import schema as W
from pbxlens.tickets import TicketError, companies, ticket
from pbxlens.tickets import schema as S
from pbxlens.tickets.rows import CompanyRow, TicketRow, rejection_reason
from pbxlens.tickets.tracking import format_hm

MAX_ROWS = 100_000

# header spellings -> field (English keys, the export's labels, the Italian UI's labels)
_TICKET_HEADERS = {
    "number": "number",
    "numerazione": "number",
    "numero": "number",
    "title": "title",
    "titolo": "title",
    "name": "title",
    "account": "account",
    "final_customer": "final_customer",
    "cliente_finale": "final_customer",
    "account_contact": "account_contact",
    "contatto_account": "account_contact",
    "final_customer_contact": "final_customer_contact",
    "contatto_final_customer": "final_customer_contact",
    "status": "status",
    "stato": "status",
    "priority": "priority",
    "priorita": "priority",
    "type": "type",
    "tipologia": "type",
    "description": "description",
    "descrizione": "description",
    "tags": "tags",
    "external": "external",
    "estimate_hours": "estimate_hours",
    "estimate": "estimate_hours",
    "stima": "estimate_hours",
    "created_at": "created_at",
    "data_creazione": "created_at",
    "due_date": "due_date",
    "data_scadenza": "due_date",
    "estimated_start": "estimated_start",
    "data_inizio_stimata": "estimated_start",
    "in_charge": "in_charge",
    "utente_in_carico": "in_charge",
    "assigned": "assigned",
    "utente_assegnato": "assigned",
    "extra_notify_emails": "extra_notify_emails",
}
_COMPANY_HEADERS = {
    "company": "company",
    "azienda": "company",
    "name": "company",
    "code": "code",
    "codice": "code",
    "vat": "vat",
    "partita_iva": "vat",
    "piva": "vat",
    "email": "email",
    "phones": "phones",
    "phone": "phones",
    "telefono": "phones",
    "telefoni": "phones",
    "contact": "contact",
    "referente": "contact",
    "contatto": "contact",
    "contact_email": "contact_email",
    "contact_phones": "contact_phones",
    "contact_phone": "contact_phones",
    "score": "score",
    "outlook": "outlook",
    "bad_debts": "bad_debts",
    "exposure": "exposure",
    "credit_line": "credit_line",
}


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    rejected: list[tuple[int, Reason]] = field(default_factory=list)  # (line, reason)
    written: bool = True

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "written": self.written,
            "rejected": [{"line": ln, "reason": str(r)} for ln, r in self.rejected],
        }


class _Rejected(PbxlensError):
    """A row the store refuses (an unknown company, user, code; a number in use)."""


class StrictImportError(TicketError):
    """A strict import with rejected rows: nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(
            f"{len(report.rejected)} row(s) rejected, nothing imported: "
            + "; ".join(f"line {ln}: {r}" for ln, r in report.rejected[:5])
        )


def _key(h: Any) -> str:
    s = unicodedata.normalize("NFKD", str(h or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", s.strip().lower()).strip("_")


def read_table(path: Path | str, data: bytes | None = None) -> list[tuple[int, list[Any]]]:
    """(line number, cells) of every row, the header included (line 1); XLSX or CSV."""
    path = Path(path)
    raw = data if data is not None else path.read_bytes()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        from pbxlens.ingest import xlsx_guard

        try:
            xlsx_guard.check_with_settings(io.BytesIO(raw), name=path.name)
        except PbxlensError as exc:
            raise TicketError(str(exc)) from None
        try:
            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception as exc:
            raise TicketError(f"{path.name}: not a readable XLSX file ({exc.__class__.__name__})") from None
        out = [(i, list(r)) for i, r in enumerate(wb.worksheets[0].iter_rows(values_only=True), 1)]
        wb.close()
    elif path.suffix.lower() in (".csv", ".txt"):
        text = raw.decode("utf-8-sig", errors="replace")
        first = text.splitlines()[0] if text else ""
        delim = max(("\t", ";", ","), key=first.count)
        out = list(enumerate(csv.reader(io.StringIO(text), delimiter=delim), 1))
    else:
        raise TicketError(f"{path.name}: import XLSX or CSV files")
    out = [(i, r) for i, r in out if any(v not in (None, "") for v in r)]
    if len(out) > MAX_ROWS + 1:
        raise TicketError(f"{path.name}: more than {MAX_ROWS:,} rows")
    if not out:
        raise TicketError(f"{path.name}: empty file")
    return out


def _records(path, data, aliases: dict[str, str]) -> list[tuple[int, dict[str, Any]]]:
    table = read_table(path, data)
    header = [aliases.get(_key(h)) for h in table[0][1]]
    recs = []
    for line, cells in table[1:]:
        d = {}
        for i, h in enumerate(header):
            if h and i < len(cells):
                d[h] = cells[i]  # as read: the row's model trims and types it
        recs.append((line, d))
    return recs


def _run(conn: sa.Connection, recs, model: type[BaseModel], apply, strict: bool) -> ImportReport:
    """Each record validated by `model`, then written by `apply` in its own savepoint."""
    rep = ImportReport(rows=len(recs))
    for line, rec in recs:
        try:
            row = model.model_validate(rec)
            with conn.begin_nested():  # a savepoint: a rejected row leaves nothing behind
                apply(row)
            rep.imported += 1
        except ValidationError as exc:
            rep.rejected.append((line, rejection_reason(exc)))
        except (_Rejected, TicketError) as exc:
            rep.rejected.append((line, Reason(str(exc), exc.key, **exc.params)))
    if strict and rep.rejected:
        rep.imported, rep.written = 0, False
        raise StrictImportError(rep)  # raised inside the caller's transaction: it rolls back
    return rep


# ------------------------------------------------------------------------- companies


def import_companies(
    conn: sa.Connection,
    path: Path | str,
    *,
    tenant: str = "default",
    data: bytes | None = None,
    strict: bool = False,
) -> ImportReport:
    """One row per company, or per contact of a company (the company is created on its first
    row and completed by the next ones). Phones are separated by `;` or `,`."""
    recs = _records(path, data, _COMPANY_HEADERS)

    def apply(row: CompanyRow) -> None:
        comp = companies.company_by_name(conn, row.company, tenant)
        given = {"code": row.code, "vat": row.vat, "email": row.email, **row.financials()}
        if comp is None:
            cid = companies.create_company(conn, row.company, tenant=tenant, **given)
        else:
            cid = comp["id"]
            upd = {k: v for k, v in given.items() if v is not None}
            if upd:
                companies.update_company(conn, cid, **upd)
        for p in row.phones:
            companies.add_phone(conn, cid, p)
        if row.contact:
            _import_contact(conn, cid, row)

    return _run(conn, recs, CompanyRow, apply, strict)


def _import_contact(conn: sa.Connection, cid: int, row: CompanyRow) -> None:
    """The row's contact of company `cid`: added, or its e-mail and phones completed."""
    k = companies.contact_by_name(conn, cid, row.contact)
    kid = k["id"] if k else companies.add_contact(conn, cid, row.contact, email=row.contact_email)
    if k and row.contact_email:
        conn.execute(S.contacts.update().where(S.contacts.c.id == kid).values(email=row.contact_email))
    for p in row.contact_phones:
        companies.add_phone(conn, cid, p, contact_id=kid)


def export_companies(conn: sa.Connection, path: Path | str, *, tenant: str = "default") -> int:
    header = [
        "company",
        "code",
        "vat",
        "email",
        "phones",
        "contact",
        "contact_email",
        "contact_phones",
        "score",
        "outlook",
        "bad_debts",
        "exposure",
        "credit_line",
    ]
    rows = []
    for c in companies.list_companies(conn, tenant):
        base = [c["name"], c["code"], c["vat"], c["email"], "; ".join(companies.phones_of(conn, c["id"]))]
        fin = [c["score"], c["outlook"], c["bad_debts"], c["exposure"], c["credit_line"]]
        contacts = companies.list_contacts(conn, c["id"])
        if not contacts:
            rows.append([*base, None, None, None, *fin])
        for k in contacts:
            rows.append(
                [*base, k["name"], k["email"], "; ".join(companies.phones_of(conn, c["id"], k["id"])), *fin]
            )
    _write(Path(path), header, rows)
    return len(rows)


# ------------------------------------------------------------------------- tickets


def import_tickets(
    conn: sa.Connection,
    path: Path | str,
    *,
    tenant: str = "default",
    user=None,
    data: bytes | None = None,
    strict: bool = False,
) -> ImportReport:
    """One row per ticket. Mandatory: account, final_customer, title, status, type, priority;
    an unknown company, contact, user, type, priority or status, or a number already used,
    rejects the row (B.3 DECISION)."""
    # the lookups against the store stay closures beside the row they check
    recs = _records(path, data, _TICKET_HEADERS)
    codes = _ticket_codes(conn)
    users = _tenant_users(conn, tenant)

    def company(row: TicketRow, key: str) -> int:
        c = companies.company_by_name(conn, getattr(row, key), tenant)
        if c is None:
            raise _Rejected(f"{key}: unknown company {getattr(row, key)!r}",
                            key="row_unknown_company", field=key, value=repr(getattr(row, key)))
        return c["id"]

    def contact(row: TicketRow, key: str, cid: int) -> int | None:
        name = getattr(row, key)
        if not name:
            return None
        k = companies.contact_by_name(conn, cid, name)
        if k is None:
            raise _Rejected(f"{key}: unknown contact {name!r}", key="row_unknown_contact",
                            field=key, value=repr(name))
        return k["id"]

    def user_id(row: TicketRow, key: str) -> int | None:
        name = getattr(row, key)
        if not name:
            return None
        if name.lower() not in users:
            raise _Rejected(f"{key}: unknown user {name!r}", key="row_unknown_user", field=key,
                            value=repr(name))
        return users[name.lower()]

    def apply(row: TicketRow) -> None:
        number = _checked_number(conn, row, codes)
        acc, fin = company(row, "account"), company(row, "final_customer")
        ticket.create(
            conn,
            tenant=tenant,
            user=user,
            number=number,
            title=row.title,
            account_id=acc,
            final_customer_id=fin,
            account_contact_id=contact(row, "account_contact", acc),
            final_customer_contact_id=contact(row, "final_customer_contact", fin),
            status=row.status,
            type=row.type,
            priority=row.priority,
            in_charge_user_id=user_id(row, "in_charge"),
            assigned_user_id=user_id(row, "assigned"),
            creation_mode="import",
            notify_on=False,  # an import is history: nobody is notified of it
            **row.model_dump(include=_TICKET_AS_IS),
        )

    return _run(conn, recs, TicketRow, apply, strict)


# the fields a ticket row gives ticket.create as they are
_TICKET_AS_IS = {"description", "tags", "external", "estimate_hours", "created_at", "due_date",
                 "estimated_start", "extra_notify_emails"}


def _ticket_codes(conn: sa.Connection) -> dict[str, set[str]]:
    """The priority and type codes a ticket row may name."""
    return {"priority": set(conn.execute(sa.select(S.priorities.c.code)).scalars()),
            "type": set(conn.execute(sa.select(S.types.c.code)).scalars())}


def _tenant_users(conn: sa.Connection, tenant: str) -> dict[str, int]:
    """The tenant's user ids by lower-case user name."""
    return {u.lower(): i for i, u in conn.execute(
        sa.select(W.users.c.id, W.users.c.username).where(W.users.c.tenant == tenant))}


def _checked_number(conn: sa.Connection, row: TicketRow, codes: dict[str, set[str]]) -> str | None:
    """The row's ticket number (None: the next one), once its priority and type are known
    codes and the number is not already used; else the row is rejected."""
    for key in ("priority", "type"):
        if getattr(row, key) not in codes[key]:
            raise _Rejected(f"{key}: unknown {getattr(row, key)!r}", key="row_unknown_code",
                            field=key, value=repr(getattr(row, key)))
    if row.number and ticket.by_number(conn, row.number) is not None:
        raise _Rejected(f"number {row.number} exists", key="row_number_exists",
                        number=row.number)
    return row.number


LABELS = {
    "number": "number",
    "title": "title",
    "account": "account",
    "final_customer": "final_customer",
    "status": "status",
    "in_charge": "in_charge",
    "assigned": "assigned",
    "priority": "priority",
    "type": "type",
    "area": "area",
    "tags": "tags",
    "created_at": "created_at",
    "last_reply_at": "last_reply_at",
    "estimate_hours": "estimate_hours",
    "tracking_s": "tracking",
}


def export_tickets(rows: list[dict], path: Path | str, columns: tuple[str, ...] | None = None) -> int:
    """The grid's rows (`listing.rows`) with its visible columns, in order."""
    from pbxlens.tickets.listing import COLUMNS

    cols = list(columns or COLUMNS)
    _write(
        Path(path),
        [LABELS.get(c, c) for c in cols],
        [[r.get(c) for c in cols] for r in rows],
        durations={LABELS["tracking_s"]},
    )
    return len(rows)


def _local(v: datetime) -> datetime:
    return v.astimezone(ZoneInfo(get_settings().timezone)).replace(tzinfo=None) if v.tzinfo else v


def _write(path: Path, header: list[str], rows: list[list[Any]], durations: set[str] = frozenset()) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "remove_timezone": True,
            },
        )
        ws = wb.add_worksheet()
        bold = wb.add_format({"bold": True})
        dtf = wb.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        durf = wb.add_format({"num_format": "[h]:mm"})
        ws.write_row(0, 0, header, bold)
        for i, r in enumerate(rows, start=1):
            for j, v in enumerate(r):
                if v is None or v == "":
                    continue
                if header[j] in durations:
                    ws.write_number(i, j, int(v) / 86400, durf)  # an Excel duration
                elif isinstance(v, datetime):
                    ws.write_datetime(i, j, _local(v), dtf)
                elif isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, int | float | Decimal):
                    ws.write_number(i, j, float(v))
                else:
                    ws.write_string(i, j, str(v))
        wb.close()
        return
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(
                [
                    ""
                    if v is None
                    else format_hm(v)
                    if header[j] in durations
                    else _local(v).strftime("%d/%m/%Y %H:%M:%S")
                    if isinstance(v, datetime)
                    else v
                    for j, v in enumerate(r)
                ]
            )
