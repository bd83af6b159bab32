"""The number normalizer N() of rule R10 (nexus_modules.md A.9, errata "Number normalization"):
digits only, the outbound line-seizure code stripped from dialled numbers, +39/0039 mapped to
the national form, other international numbers as 00<cc><number>. The SQL form runs over whole
tables; the Python form (phonenumbers) serves single values typed by people and is tested to
agree with the SQL one."""

from __future__ import annotations

import re

import phonenumbers

from pbxlens import PbxlensError
from pbxlens.config import get_settings


def _cfg() -> tuple[str, str]:
    s = get_settings()
    seize = s.line_prefix or ""
    home = str(phonenumbers.country_code_for_region(s.default_region) or 39)
    if not re.fullmatch(r"[0-9]*", seize):
        raise PbxlensError(f"line_prefix must be digits, got {seize!r}")
    return seize, home


def clean_sql(expr: str) -> str:
    """SQL: the digits (and '+') of expr; compute it once per row, then `national_sql` on it."""
    return f"regexp_replace(coalesce({expr}, ''), '[^0-9+]', '', 'g')"


def national_sql(expr: str, outbound: bool, *, cleaned: bool = False) -> str:
    """SQL of N(expr). `outbound`: a number the PBX dialled (strip the seizure code).
    `cleaned`: expr is already `clean_sql(...)` (a column), so the regexp runs once per row.
    The two settings are digits (checked), so they are inlined as literals."""
    seize, home = _cfg()
    n0 = expr if cleaned else clean_sql(expr)
    if outbound and seize:
        n1 = f"(CASE WHEN starts_with({n0}, '{seize}') THEN substr({n0}, {len(seize) + 1}) ELSE {n0} END)"
    else:
        n1 = n0
    return (f"(CASE WHEN starts_with({n1}, '+{home}') THEN substr({n1}, {len(home) + 2}) "
            f"WHEN starts_with({n1}, '00{home}') THEN substr({n1}, {len(home) + 3}) "
            f"WHEN starts_with({n1}, '+') THEN '00' || replace(substr({n1}, 2), '+', '') "
            f"ELSE replace({n1}, '+', '') END)")


def national(raw: str | None, outbound: bool = False) -> str:
    """N(raw) in Python; '' when nothing callable is left (anonymous, letters only)."""
    seize, home = _cfg()
    s = re.sub(r"[^0-9+]", "", raw or "")
    if outbound and seize and s.startswith(seize):
        s = s[len(seize):]
    if not s.strip("+"):
        return ""
    intl = s.startswith("+") or s.startswith("00")
    try:
        region = get_settings().default_region
        n = phonenumbers.parse("+" + s[2:] if s.startswith("00") else s, region)
    except phonenumbers.NumberParseException:
        n = None
    if n is not None and str(n.country_code) == home and (intl or not s.startswith("+")):
        nsn = phonenumbers.national_significant_number(n)
        # phonenumbers parses a national number as is; keep the digits as dialled
        return nsn if intl else s.replace("+", "")
    if n is not None and intl:
        return f"00{n.country_code}{phonenumbers.national_significant_number(n)}"
    return s.replace("+", "")
