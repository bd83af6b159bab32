"""Number cells of the import files (billing tariffs and profiles, ticket imports): one parser
for `0,01`, `0.01`, `1.234,5`, `€ 12,50` and typed spreadsheet numbers. They raise CellError (a
ValueError with a catalog key), so that pydantic models of rows use them as validators."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pbxlens import CellError


def parse_decimal(v: Any) -> Decimal | None:
    """A decimal from `0,01`, `0.01`, `1.234,5` or a number cell; blank -> None.

    Example:
        >>> parse_decimal("1.234,5"), parse_decimal(" "), parse_decimal(0.1)
        (Decimal('1234.5'), None, Decimal('0.1'))
    """
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    s = str(v).strip().replace("€", "").replace(" ", "")
    if "," in s:
        s = s.replace(".", "").replace(",", ".")
    try:
        return Decimal(s)
    except InvalidOperation:
        raise CellError(f"not a number: {v!r}", key="row_not_number", value=repr(v)) from None


def parse_integer(v: Any) -> int | None:
    """A whole number (`12`, `12,0`); a fraction is refused."""
    d = parse_decimal(v)
    if d is None:
        return None
    if d != d.to_integral_value():
        raise CellError(f"not a whole number: {v!r}", key="row_not_whole", value=repr(v))
    return int(d)
