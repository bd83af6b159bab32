"""The rows of the module's imports (companies and contacts; tickets) as pydantic models.

A model declares a row's fields: which are mandatory, their types (text trimmed, numbers with a
decimal comma, dates in the PBX timezone, yes/no flags, phone numbers, e-mail addresses, the
ticket status) and the checks between fields. What needs the store (a company, contact, user,
priority or type that must exist, a number already used) is checked by the importer after.
`rejection_reason` turns a ValidationError into the rejection report's one-line reason (a
`pbxlens.Reason`: the English text with the catalog key the pages translate it by).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from pbxlens import CellError, Reason, field_reason
from pbxlens.cells import parse_decimal
from pbxlens.config import get_settings
from pbxlens.tickets import TicketError, companies, ticket

_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S",
                 "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S")


def text(v: Any) -> str | None:
    """A cell as trimmed text; blank -> None; a whole float cell (XLSX) without its `.0`.

    Example:
        >>> text(" Acme "), text(12.0), text("  ")
        ('Acme', '12', None)
    """
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def _required(v: Any) -> str:
    s = text(v)
    if s is None:
        raise PydanticCustomError("missing", "missing")  # reported with the other missing ones
    return s


def _when(v: Any) -> datetime | None:
    """A typed cell or `YYYY-MM-DD[ HH:MM[:SS]]` / `DD/MM/YYYY[ HH:MM[:SS]]`, read as PBX local
    time when it has no zone."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, datetime):
        dt = v
    elif isinstance(v, date):
        dt = datetime.combine(v, time())
    else:
        dt = _strptime(str(v).strip())
        if dt is None:
            raise CellError(f"not a date: {v!r}", key="row_not_date", value=repr(v))
    return dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(get_settings().timezone))


def _strptime(s: str) -> datetime | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    return None


def _flag(v: Any) -> bool:
    s = (text(v) or "").lower()
    if s in ("", "0", "no", "n", "false", "f", "falso"):
        return False
    if s in ("1", "yes", "y", "si", "sì", "true", "t", "x", "vero"):
        return True
    raise CellError(f"not yes/no: {v!r}", key="row_not_flag", value=repr(v))


def _phones(v: Any) -> list[str]:
    """Phones separated by `;`, `,` or `/`, each one that can be stored."""
    out = [p.strip() for p in re.split(r"[;,/]", text(v) or "") if p.strip()]
    for p in out:
        if companies.valid_phone(p) is None:
            raise CellError(f"not a phone number: {p!r}", key="row_not_phone", value=repr(p))
    return out


def _email(v: Any) -> str | None:
    s = text(v)
    if s and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", s):
        raise CellError(f"not an email address: {s!r}", key="row_not_email", value=repr(s))
    return s


def _status(v: Any) -> str:
    try:
        return ticket.status_of(_required(v))
    except TicketError as exc:  # the vocabulary's own message (it lists the statuses)
        raise CellError(str(exc), key=exc.key, **exc.params) from None


def _tags(v: Any) -> list[str]:
    return [x for x in re.split(r"[;,]", text(v) or "") if x.strip()]


Text = Annotated[str | None, BeforeValidator(text)]
Required = Annotated[str, BeforeValidator(_required)]
Money = Annotated[Decimal | None, BeforeValidator(parse_decimal)]
When = Annotated[datetime | None, BeforeValidator(_when)]
Phones = Annotated[list[str], BeforeValidator(_phones)]
Email = Annotated[str | None, BeforeValidator(_email)]


class _Row(BaseModel):
    # a header the importer does not know never reaches the row; fields are declared in the
    # order their errors are reported
    model_config = ConfigDict(extra="ignore")


class CompanyRow(_Row):
    """A company, or one contact of a company (the company is created on its first row and
    completed by the next ones)."""

    company: Required
    bad_debts: Money = None
    exposure: Money = None
    credit_line: Money = None
    phones: Phones = []
    contact_phones: Phones = []
    email: Email = None
    contact_email: Email = None
    code: Text = None
    vat: Text = None
    contact: Text = None
    score: Text = None
    outlook: Text = None

    @model_validator(mode="after")
    def _contact_named(self) -> CompanyRow:
        if (self.contact_phones or self.contact_email) and not self.contact:
            raise CellError("contact_phones / contact_email without a contact",
                            key="row_contact_unnamed")
        return self

    def financials(self) -> dict[str, Any]:
        """The financial fields the row gives (a blank one keeps what is stored)."""
        fin = self.model_dump(include={"score", "outlook", "bad_debts", "exposure", "credit_line"})
        return {k: v for k, v in fin.items() if v is not None}


class TicketRow(_Row):
    """A ticket. The mandatory fields come first, in the order the report lists them."""

    title: Required
    account: Required
    final_customer: Required
    status: Annotated[str, BeforeValidator(_status)]
    type: Required
    priority: Required
    number: Text = None
    account_contact: Text = None
    final_customer_contact: Text = None
    description: Text = None
    tags: Annotated[list[str], BeforeValidator(_tags)] = []
    external: Annotated[bool, BeforeValidator(_flag)] = False
    estimate_hours: Money = None
    created_at: When = None
    due_date: When = None
    estimated_start: When = None
    in_charge: Text = None
    assigned: Text = None
    extra_notify_emails: Text = None


def rejection_reason(exc: ValidationError) -> Reason:
    """The rejection report's reason: every missing mandatory field at once, else the first
    error as `field: what is wrong` (a check between fields: just what is wrong).

    Example:
        >>> try:
        ...     TicketRow.model_validate({"title": "x", "account": " "})
        ... except ValidationError as exc:
        ...     print(rejection_reason(exc))
        missing account, final_customer, status, type, priority
    """
    errors = exc.errors()
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing"]
    if missing:
        return Reason(f"missing {', '.join(missing)}", key="row_missing", fields=", ".join(missing))
    first = errors[0]
    return field_reason(first, str(first["loc"][0]) if first["loc"] else "")
