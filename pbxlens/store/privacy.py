"""The privacy right, implemented once: without it, external numbers show their last three
digits as `xxx` (as the PBX itself does) in pages, exports and the API alike.

`mask_result` is applied by `service.run_report`, the only way the web app runs a report, so
every consumer (page, XLSX, JSON) receives the masked `Result`.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store sits below the report package: the type only, no import
    from pbxlens.reports.catalog import Result

# A number is "external" when it has at least this many digits; internal extensions
# (e.g. 201, 5263) stay readable.
MIN_EXTERNAL_DIGITS = 7
# Row / filter keys that hold phone numbers (caller, called, ...) in any report or filter.
# (answered_by: a call forwarded to a mobile is answered by an external number.)
NUMBER_KEYS = frozenset({"caller", "called", "number", "source", "destination", "src", "dst",
                         "caller_number", "called_number", "external_number", "did", "cli",
                         "answered_by", "call_num", "source_num", "dest_num"})
NUMBER_UNITS = frozenset({"number", "phone"})
_DIGIT = re.compile(r"\d")
# digits and spaces only, so dates (01/06/2026) and hours (10:00) are never taken for numbers
_IN_TEXT = re.compile(r"(?<![\w/:.])\+?\d[\d ]{5,}\d(?![\w/:.])")


def mask_number(s: str | None) -> str | None:
    """Replace the last three digits of an external number with `xxx`.

    Example:
        >>> mask_number("+39 0461 123456")
        '+39 0461 123xxx'
        >>> mask_number("201")
        '201'
    """
    if s is None:
        return None
    text = str(s)
    digits = [m.start() for m in _DIGIT.finditer(text)]
    if len(digits) < MIN_EXTERNAL_DIGITS:
        return text
    chars = list(text)
    for i in digits[-3:]:
        chars[i] = "x"
    return "".join(chars)


def mask_text(text: str | None) -> str | None:
    """Mask every external number found inside a longer text (labels such as
    "0461123456 (Rossi)")."""
    if text is None:
        return None
    return _IN_TEXT.sub(lambda m: mask_number(m.group(0)), str(text))


def mask_row(row: dict, privacy: bool) -> dict:
    """A row (a dict of cells) with its number cells masked; the same row with the right.

    Example:
        >>> mask_row({"caller": "0461123456", "answered_by": "3331234567", "wait": 12}, False)
        {'caller': '0461123xxx', 'answered_by': '3331234xxx', 'wait': 12}
    """
    if privacy:
        return row
    return {k: (mask_number(v) if k in NUMBER_KEYS and isinstance(v, str) else v)
            for k, v in row.items()}


def mask_result(result: Result, privacy: bool) -> Result:
    """A copy of `result` with number-bearing cells, labels of number rows and number filters
    masked; the same object when the user holds the privacy right."""
    if privacy:
        return result
    out = copy.deepcopy(result)
    for k in list(out.filters):
        if k in NUMBER_KEYS:
            v = out.filters[k]
            out.filters[k] = [mask_number(x) for x in v] if isinstance(v, list) else mask_number(v)
    for t in out.tables:
        keys = {c.key for c in t.columns if c.unit in NUMBER_UNITS} | NUMBER_KEYS
        for row in [*t.rows, t.totals]:
            for k in keys & set(row):
                if isinstance(row[k], str):
                    row[k] = mask_number(row[k])
            if isinstance(row.get("label"), str):
                row["label"] = mask_text(row["label"])
    return out
