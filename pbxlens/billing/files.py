"""Tabular files of the billing module: read CSV/XLSX(/XLS) into rows of text, write them back.

The cell parsers (`parse_decimal`, `parse_integer`, `parse_day`, `parse_flag`) raise CellError
(a ValueError with a catalog key), so that pydantic models of rows use them as validators;
`decimal`, `integer`, `day` and `flag` are the same parsers for code that checks one value,
their error naming the field."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pbxlens import CellError, PbxlensError, Reason, field_reason
from pbxlens.cells import parse_decimal, parse_integer


class BillingFileError(PbxlensError):
    exit_code = 2


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows as {lower-case header: value} (text, or date/number from typed XLSX cells)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        from pbxlens.ingest import xlsx_guard

        try:
            xlsx_guard.check_with_settings(path)  # before openpyxl pads rows to the extent
        except PbxlensError as exc:
            raise BillingFileError(str(exc)) from None
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    elif suffix == ".xls":
        raise BillingFileError(f"{path}: legacy .xls is not readable here: save it as .xlsx or .csv")
    else:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        first = text.splitlines()[0] if text else ""
        delim = max(("\t", ";", ","), key=first.count)
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    rows = [r for r in rows if any(v not in (None, "") for v in r)]
    if not rows:
        raise BillingFileError(f"{path}: empty file")
    header = [str(h or "").strip().lower() for h in rows[0]]
    out = []
    for r in rows[1:]:
        cells = [v.strip() if isinstance(v, str) else v for v in r]
        out.append({h: (cells[i] if i < len(cells) else None) for i, h in enumerate(header) if h})
    return out


def text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def _named(parse: Callable[[Any], Any], v: Any, what: str) -> Any:
    """`parse(v)`, its ValueError raised as a BillingFileError that names the field."""
    try:
        return parse(v)
    except ValueError as exc:
        raise BillingFileError(f"{what}: {exc}", key="row_field", field=what, reason=exc) from None


def parse_day(v: Any) -> date | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip()[:10]
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise CellError(f"not a date (YYYY-MM-DD or DD/MM/YYYY): {v!r}", key="row_not_day",
                    value=repr(v))


def parse_flag(v: Any, default: bool = True) -> bool:
    s = (text(v) or "").lower()
    if not s:
        return default
    if s in ("t", "true", "1", "y", "yes", "si", "sì", "attiva", "active", "enabled"):
        return True
    if s in ("f", "false", "0", "n", "no", "non attiva", "inactive", "disabled"):
        return False
    raise CellError(f"not a flag (t/f): {v!r}", key="row_not_tf", value=repr(v))


def reason(exc: ValidationError) -> Reason:
    """A row model's first error as `field: what is wrong` (a check between fields: just what
    is wrong), with its catalog key."""
    first = exc.errors()[0]
    return field_reason(first, ".".join(str(p) for p in first["loc"]))


def decimal(v: Any, what: str) -> Decimal | None:
    return _named(parse_decimal, v, what)


def integer(v: Any, what: str) -> int | None:
    return _named(parse_integer, v, what)


def day(v: Any, what: str) -> date | None:
    return _named(parse_day, v, what)


def flag(v: Any, what: str) -> bool:
    return _named(parse_flag, v, what)


def comma(d: Decimal | None) -> str:
    """0.01000 -> '0,01' (the PBX template's decimal comma); None -> ''."""
    if d is None:
        return ""
    s = format(d.normalize(), "f")
    return s.replace(".", ",")


def write_rows(path: Path, header: list[str], rows: list[list[Any]], *, delimiter: str = ",",
               number_formats: dict[str, str] | None = None) -> None:
    """CSV or XLSX by suffix. XLSX text cells are written as strings, never as formulas."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                             "strings_to_urls": False})
        ws = wb.add_worksheet()
        bold = wb.add_format({"bold": True})
        fmts = {k: wb.add_format({"num_format": v}) for k, v in (number_formats or {}).items()}
        datef = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws.write_row(0, 0, header, bold)
        for i, r in enumerate(rows, start=1):
            for j, v in enumerate(r):
                if v is None or v == "":
                    continue
                if isinstance(v, str):
                    ws.write_string(i, j, v)
                elif isinstance(v, date):
                    ws.write_datetime(i, j, datetime(v.year, v.month, v.day), datef)
                elif isinstance(v, Decimal):
                    ws.write_number(i, j, float(v), fmts.get(header[j]))
                else:
                    ws.write_number(i, j, v, fmts.get(header[j]))
        wb.close()
    else:
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, delimiter=delimiter)
            w.writerow(header)
            for r in rows:
                w.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in r])
