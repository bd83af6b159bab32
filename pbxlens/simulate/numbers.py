"""Synthetic Italian (and some foreign) telephone numbers.

Fixed numbers use real Italian area codes (prefisso) with the usual total length
(area code + subscriber number = 9..11 digits, most 10). Mobiles are 3xx + 7 digits.
"""

from __future__ import annotations

import bisect
import itertools
import random

# (area code, province/city, total national length)
AREA_CODES: tuple[tuple[str, str, int], ...] = (
    ("02", "MI", 10),
    ("06", "RM", 10),
    ("011", "TO", 10),
    ("010", "GE", 10),
    ("035", "BG", 10),
    ("030", "BS", 10),
    ("031", "CO", 10),
    ("0341", "LC", 10),
    ("039", "MB", 10),
    ("0376", "MN", 10),
    ("0372", "CR", 10),
    ("0382", "PV", 10),
    ("045", "VR", 10),
    ("041", "VE", 10),
    ("049", "PD", 10),
    ("040", "TS", 10),
    ("051", "BO", 10),
    ("059", "MO", 10),
    ("0521", "PR", 10),
    ("055", "FI", 10),
    ("050", "PI", 10),
    ("071", "AN", 10),
    ("075", "PG", 10),
    ("081", "NA", 10),
    ("080", "BA", 10),
    ("091", "PA", 10),
    ("095", "CT", 10),
    ("070", "CA", 10),
    ("0471", "BZ", 10),
    ("0461", "TN", 10),
)
# relative weights (big cities call more)
AREA_WEIGHTS: tuple[float, ...] = (
    18, 14, 6, 3, 7, 4, 3, 3, 4, 2, 1.5, 1.5, 3, 2, 3, 1, 5, 2, 1.5, 4, 1, 1.5, 1.5, 5, 2, 2,
    1.5, 1, 1, 1,
)
MOBILE_PREFIXES: tuple[str, ...] = (
    "320", "324", "327", "328", "329", "330", "331", "333", "334", "335", "336", "337", "338",
    "339", "340", "342", "345", "346", "347", "348", "349", "350", "351", "366", "380", "388",
    "389", "391", "392", "393",
)
# (country code, national significant number length, leading digits choices)
INTERNATIONAL: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("44", 10, ("20", "7")),
    ("33", 9, ("1", "6")),
    ("49", 10, ("30", "89", "15")),
    ("41", 9, ("44", "91")),
    ("34", 9, ("91", "6")),
    ("1", 10, ("212", "415")),
)


_AREA_CUM = list(itertools.accumulate(AREA_WEIGHTS))


def _digits(rng: random.Random, n: int) -> str:
    return str(int(rng.random() * 10**n)).zfill(n)


def fixed_number(rng: random.Random, area: str | None = None) -> str:
    if area is None:
        area, _prov, total = AREA_CODES[bisect.bisect(_AREA_CUM, rng.random() * _AREA_CUM[-1])]
    else:
        total = next((t for a, _p, t in AREA_CODES if a == area), 10)
    sub = total - len(area)
    while True:
        first = str(2 + int(rng.random() * 8))  # subscriber numbers do not start with 0/1
        num = area + first + _digits(rng, sub - 1)
        if not num.startswith("06698"):  # +39 06 698: Vatican City, not an Italian province
            return num


def mobile_number(rng: random.Random) -> str:
    return MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))] + _digits(rng, 7)


def toll_free_number(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return "800" + _digits(rng, 6)
    return "803" + _digits(rng, 3)


def international_number(rng: random.Random) -> str:
    """International number in the dialled form ``00<cc><nsn>``."""
    cc, n, leads = rng.choice(INTERNATIONAL)
    lead = rng.choice(leads)
    return "00" + cc + lead + _digits(rng, n - len(lead))


def external_number(rng: random.Random, *, p_mobile: float = 0.45, p_intl: float = 0.03,
                    p_tollfree: float = 0.0) -> str:
    r = rng.random()
    if r < p_intl:
        return international_number(rng)
    r -= p_intl
    if r < p_tollfree:
        return toll_free_number(rng)
    r -= p_tollfree
    if r < p_mobile:
        return mobile_number(rng)
    return fixed_number(rng)


def to_e164(number: str) -> str:
    """Dialled national/international form -> ``+<cc>...`` (toll-free stays Italian)."""
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("+"):
        return number
    return "+39" + number
