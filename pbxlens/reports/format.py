"""The one display formatter shared by pages, charts, the CLI table and exports (spec §0.4).

Raw values stay numbers everywhere else; this module only turns them into text, in the
user's language: Italian "12.528" and "75,58%", English "12,528" and "75.58%" (the separators
of one language never mix in one row); durations `HH:MM:SS`, from 24 h on `Ngg HH:MM:SS`
(Italian, as Nexus) or `Nd HH:MM:SS` (English); money `€ 20.086,01` / `€ 20,086.01`.
Golden pairs of every function: tests/reports/data/format_pairs.txt.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

WEEKDAYS = {"it": ("dom", "lun", "mar", "mer", "gio", "ven", "sab"),
            "en": ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")}
MONTHS = {"it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                 "agosto", "settembre", "ottobre", "novembre", "dicembre"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December")}
# (thousands separator, decimal separator) per language
SEPARATORS = {"it": (".", ","), "en": (",", ".")}
DAY_SUFFIX = {"it": "gg", "en": "d"}


def _lang(lang: str | None) -> str:
    return "it" if lang == "it" else "en"


def _localize(text: str, lang: str) -> str:
    """Python's `1,234.5` with the language's separators."""
    thousands, dec = SEPARATORS[_lang(lang)]
    return text.replace(",", "\0").replace(".", dec).replace("\0", thousands)


def _round(v, places: int) -> Decimal:
    return Decimal(str(v)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number(v, places: int = 0, *, lang: str = "it", thousands: bool = True) -> str:
    """A number with `places` decimals (half-up) and the language's separators.

    Example:
        >>> number(12528, lang="it"), number(12528, lang="en"), number(0.125, 2, lang="it")
        ('12.528', '12,528', '0,13')
    """
    if v is None:
        return ""
    q = _round(v, places)
    return _localize(f"{q:,.{places}f}" if thousands else f"{q:.{places}f}", lang)


def exact(v, *, lang: str = "it", max_places: int = 5) -> str:
    """A decimal as entered (rates, fees): no rounding below `max_places`, trailing zeros
    trimmed, the language's decimal separator, no thousands separator.

    Example:
        >>> exact(Decimal("0.01230"), lang="it"), exact(Decimal("45"), lang="en"), exact(None)
        ('0,0123', '45', '')
    """
    if v is None:
        return ""
    q = _round(v, max_places).normalize()
    return _localize(format(q, "f"), lang)


def value(v, *, lang: str = "it") -> str:
    """Any stored value as a person reads it in a list (a tariff, a profile rule, a user):
    dates `dd/mm/yyyy`, instants `dd/mm/yyyy HH:MM`, decimals exact, booleans and None
    left to the caller (they need words: the catalog's yes/no)."""
    from datetime import datetime

    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%d/%m/%Y %H:%M")
    if isinstance(v, date):
        return day_label(v)
    if isinstance(v, Decimal | float):
        return exact(v, lang=lang)
    return str(v)


def duration(seconds: int | None, *, days: bool = True, lang: str = "it") -> str:
    """`HH:MM:SS`; from 24 h on `Ngg HH:MM:SS` / `Nd HH:MM:SS` (days=True) or cumulative hours
    (days=False, the CDR dashboard's breakdown tables).

    Example:
        >>> duration(90061), duration(90061, lang="en"), duration(90061, days=False)
        ('1gg 01:01:01', '1d 01:01:01', '25:01:01')
    """
    if seconds is None:
        return ""
    s = int(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    d, r = divmod(s, 86400)
    h, r = divmod(r, 3600)
    m, sec = divmod(r, 60)
    if d and days:
        return f"{sign}{d}{DAY_SUFFIX[_lang(lang)]} {h:02d}:{m:02d}:{sec:02d}"
    return f"{sign}{h + 24 * d:02d}:{m:02d}:{sec:02d}"


def hours_minutes(seconds: float | None) -> str:
    """`h:mm` in cumulative hours, for chart axes and hover texts of durations.

    Example:
        >>> hours_minutes(200_000), hours_minutes(59), hours_minutes(0)
        ('55:33', '0:00', '0:00')
    """
    if seconds is None:
        return ""
    m = int(seconds) // 60
    return f"{m // 60}:{m % 60:02d}"


def duration_ticks(top: float, target: int = 6) -> tuple[list[int], list[str]]:
    """Tick values (seconds) and `h:mm` texts for a duration axis from 0 to `top`: steps of
    whole minutes or hours, about `target` of them.

    Example:
        >>> duration_ticks(7200)
        ([0, 1800, 3600, 5400, 7200], ['0:00', '0:30', '1:00', '1:30', '2:00'])
    """
    steps = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
    top = max(float(top or 0), 60.0)
    step = next((s for s in steps if top / s <= target), None)
    if step is None:  # beyond `target` days: whole days
        step = 86400 * -(-int(top) // (86400 * target))
    n = -(-int(top) // step)
    values = [i * step for i in range(n + 1)]
    return values, [hours_minutes(v) for v in values]


def count(n: int | None, *, lang: str = "it", thousands: bool = True) -> str:
    """A quantity; zero is blank (spec §0.4)."""
    if not n:
        return ""
    return number(n, lang=lang, thousands=thousands)


def percent(v: float | None, *, style: str = "trim", lang: str = "en", places: int = 2) -> str:
    """trim: `22.4%` / `22,4%` (at most `places` decimals, trailing zeros trimmed);
    fixed: `71,56 %` / `71.56 %` (histograms: always two decimals and a space).

    Example:
        >>> percent(75.58, lang="it"), percent(75.58), percent(71.556, style="fixed", lang="it")
        ('75,58%', '75.58%', '71,56 %')
    """
    if v is None:
        return ""
    q = _round(v, places)
    if style == "trim":
        return _localize(format(q.normalize(), "f"), lang) + "%"
    return _localize(f"{q:.{places}f}", lang) + " %"


def money(v, *, lang: str = "it") -> str:
    """`€ 20.086,01` (Italian, nexus L6885) or `€ 20,086.01`: the exact Decimal rounded once,
    half-up, to the cent for display only."""
    if v is None:
        return ""
    return f"€ {number(v, 2, lang=lang)}"


def day_label(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def month_label(d: date, lang: str = "it", *, short: bool = False) -> str:
    """`novembre 2026` / `November 2026` (short: `nov 2026` / `Nov 2026`).

    Example:
        >>> month_label(date(2026, 11, 1), "it"), month_label(date(2026, 11, 1), "en", short=True)
        ('novembre 2026', 'Nov 2026')
    """
    name = MONTHS[_lang(lang)][d.month - 1]
    return f"{name[:3] if short else name} {d.year}"


def hour_label(h: int) -> str:
    return f"{h:02d}:00"


def weekday_label(dow: int, lang: str = "it") -> str:
    """dow as DuckDB dayofweek(): 0 = Sunday."""
    return WEEKDAYS[_lang(lang)][dow]


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
        return duration(value, days=unit == "duration", lang=lang)
    if unit == "percent":
        return percent(value, lang=lang)
    if unit == "money":
        return money(value, lang=lang)
    if unit == "decimal":  # Erlangs: 2 decimals
        return number(value, 2, lang=lang, thousands=False)
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
