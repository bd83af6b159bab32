"""Phone numbers, normalized one way for the whole product (nexus_modules.md errata "Number
normalization", R10): matching runs on the *national dialled form* (the line-seizure code
stripped from outbound numbers, `+39`/`0039` mapped to national, other countries as
`00<cc><number>`); E.164 is kept beside it for display and classification.

`national()` is the Python side (forms, imports, lookups); `national_sql()` is the same rule as a
DuckDB expression over CDR columns, like the one the rating engine uses
(`billing/rating.py::_number_sql`), so that a number typed in a form finds the calls the CDR holds.
"""

from __future__ import annotations

import re

import phonenumbers

from pbxlens.config import get_settings

_NOT_DIAL = re.compile(r"[^0-9+]")


def _home() -> str:
    return str(phonenumbers.country_code_for_region(get_settings().default_region) or 39)


def digits(raw: str | None) -> str:
    """The dialable characters of `raw` (digits and a leading +), e.g. '+39 (0461) 12-34' ->
    '+39046112 34' without spaces."""
    s = _NOT_DIAL.sub("", str(raw or "").strip())
    return s[:1] + s[1:].replace("+", "")


def national(raw: str | None, *, outbound: bool = False) -> str | None:
    """The national dialled form of `raw`, or None when it holds no digits.

    Example:
        >>> [national(x) for x in ("+39 333 123 4567", "0039-333-1234567", "333 1234567")]
        ['3331234567', '3331234567', '3331234567']
        >>> national("+44 20 7946 0958")
        '00442079460958'
        >>> national("201")
        '201'
    """
    s = _NOT_DIAL.sub("", str(raw or "").strip())
    if outbound:  # "Voip codice impegno chiamata": the PBX adds it to outbound destinations
        seize = get_settings().line_prefix or ""  # (before the '+' check: "0+39..." is dialled)
        if seize and s.startswith(seize) and len(s) > len(seize) + 3:
            s = s[len(seize) :]
    s = s[:1] + s[1:].replace("+", "")
    if not s.strip("+"):
        return None
    home = _home()
    if s.startswith("+" + home):
        s = s[len(home) + 1 :]
    elif s.startswith("00" + home):
        s = s[len(home) + 2 :]
    elif s.startswith("+"):
        s = "00" + s[1:]
    return s or None


def e164(raw: str | None, *, outbound: bool = False) -> str | None:
    """The E.164 form (`+393331234567`) when phonenumbers recognizes the number, else None
    (extensions, short codes)."""
    n = national(raw, outbound=outbound)
    if not n:
        return None
    try:
        p = phonenumbers.parse(n, get_settings().default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(p):
        return None
    return phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.E164)


def national_sql(col: str, outbound: str = "false", *, cleaned: bool = False,
                 bound: bool = False) -> str:
    """DuckDB expression: `national(col, outbound=<outbound SQL boolean>)`. The settings'
    seizure code and home calling code are inlined as literals checked to be digits.
    `cleaned`: col holds only digits and '+' already (the regexp below, computed once per row
    by the caller): the expression repeats its input a dozen times, and DuckDB evaluates
    each copy, so the regexp would run a dozen times per row.
    `bound`: each intermediate form is bound once per row by a lambda (`list_transform` of a
    one-element list), so every step runs once per row: about ten times cheaper over a big
    scan (DuckDB's optimizer inlines a form computed in a subquery into every place that
    uses it, filters included). DuckDB syntax: not for SQL another engine must run."""
    seize = get_settings().line_prefix or ""
    home = _home()
    if not (seize.isdigit() or seize == "") or not home.isdigit():
        raise ValueError("line_prefix and the home calling code must be digits")

    def seized(s: str) -> str:
        if not seize:
            return s
        return (f"(CASE WHEN ({outbound}) AND starts_with({s}, '{seize}') AND length({s}) > "
                f"{len(seize) + 3} THEN substr({s}, {len(seize) + 1}) ELSE {s} END)")

    def one_plus(s: str) -> str:  # a '+' only as the first character
        return f"(left({s}, 1) || replace(substr({s}, 2), '+', ''))"

    def national_form(s1: str) -> str:
        return (
            f"nullif(CASE WHEN replace({s1}, '+', '') = '' THEN NULL "
            f"WHEN starts_with({s1}, '+{home}') THEN substr({s1}, {len(home) + 2}) "
            f"WHEN starts_with({s1}, '00{home}') THEN substr({s1}, {len(home) + 3}) "
            f"WHEN starts_with({s1}, '+') THEN '00' || substr({s1}, 2) ELSE {s1} END, '')"
        )

    s0 = (f"coalesce({col}, '')" if cleaned
          else f"regexp_replace(coalesce({col}, ''), '[^0-9+]', '', 'g')")
    if not bound:
        return national_form(one_plus(seized(s0)))
    return (f"list_transform([{s0}], lambda pbx_n0: list_transform([{one_plus(seized('pbx_n0'))}],"
            f" lambda pbx_n1: {national_form('pbx_n1')})[1])[1]")
