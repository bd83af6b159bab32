"""The one display formatter shared by pages, the CLI table and exports (spec §0.4).

Raw values stay numbers everywhere else; this module only turns them into text.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

WEEKDAYS = {"it": ("dom", "lun", "mar", "mer", "gio", "ven", "sab"),
            "en": ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")}


def duration(seconds: int | None, *, days: bool = True) -> str:
    """`HH:MM:SS`; from 24 h on `Ngg HH:MM:SS` (days=True) or cumulative hours (days=False)."""
    if seconds is None:
        return ""
    s = int(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    d, r = divmod(s, 86400)
    h, r = divmod(r, 3600)
    m, sec = divmod(r, 60)
    if d and days:
        return f"{sign}{d}gg {h:02d}:{m:02d}:{sec:02d}"
    return f"{sign}{h + 24 * d:02d}:{m:02d}:{sec:02d}"


def count(n: int | None, *, lang: str = "it", thousands: bool = True) -> str:
    if not n:
        return ""
    if not thousands:
        return str(n)
    s = f"{n:,}"
    return s.replace(",", ".") if lang == "it" else s


def percent(v: float | None, *, style: str = "trim", lang: str = "en") -> str:
    """trim: `22.4%` (dashboard); fixed: `71,56 %` (histograms, Italian comma)."""
    if v is None:
        return ""
    q = Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if style == "trim":
        s = format(q.normalize(), "f")
        return f"{s}%"
    s = f"{q:.2f}"
    return (s.replace(".", ",") if lang == "it" else s) + " %"


def money(v, *, lang: str = "it") -> str:
    """`€ 20.086,01` (Italian, nexus L6885) or `€ 20,086.01`: the exact Decimal rounded once,
    half-up, to the cent for display only."""
    if v is None:
        return ""
    q = Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    s = f"{q:,.2f}"
    if lang == "it":
        s = s.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"€ {s}"


def day_label(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def hour_label(h: int) -> str:
    return f"{h:02d}:00"


def weekday_label(dow: int, lang: str = "it") -> str:
    """dow as DuckDB dayofweek(): 0 = Sunday."""
    return WEEKDAYS["it" if lang == "it" else "en"][dow]


def cell(value, unit: str, kind: str = "sum", *, lang: str = "it", thousands: bool = True) -> str:
    """Display text of a raw cell: zero quantities and zero time sums blank; averages print
    00:00:00 when their denominator was > 0 (raw value 0, not None)."""
    if value is None:
        return ""
    if unit == "count":
        return count(value, lang=lang, thousands=thousands)
    if unit in ("duration", "duration_h"):
        if value == 0 and kind == "sum":
            return ""
        return duration(value, days=unit == "duration")
    if unit == "percent":
        return percent(value, lang=lang)
    if unit == "money":
        return money(value, lang=lang)
    if unit == "decimal":  # Erlangs: 2 decimals, Italian comma
        txt = f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):.2f}"
        return txt.replace(".", ",") if lang == "it" else txt
    if unit == "instant":  # epoch seconds -> PBX local `dd/mm/yyyy HH:MM:SS`; 0 = none
        return instant(value)
    return str(value)


def instant(epoch_s: int | None) -> str:
    if not epoch_s:
        return ""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pbxlens.config import get_settings

    return datetime.fromtimestamp(int(epoch_s), ZoneInfo(get_settings().timezone)).strftime(
        "%d/%m/%Y %H:%M:%S")
