"""Semantic colours, fixed across the product (spec §0.2 item 3: green = answered/OK, red =
unanswered/FAILED, orange = total): every chart, pie and mini pie takes its colours from here,
by what a series or slice stands for, never by its position.

A series is looked up by its key (`answered`, `incoming_total`, `cost_in`), a slice by its code
or label in either language (`NOANSWER`, `Nessuna risposta`, `SENZA RISPOSTA`), through the
vocabulary's aliases.
"""

from __future__ import annotations

from pbxlens.models import vocabulary

GREEN, RED, ORANGE = "#2e7d32", "#c62828", "#ef6c00"
BLUE, TEAL, PURPLE, BROWN, GREY = "#1565c0", "#00897b", "#6a1b9a", "#6d4c41", "#78909c"
AMBER, DARK_RED, LIGHT_GREEN, DARK_GREEN = "#f9a825", "#8e0000", "#66bb6a", "#1b5e20"
# for series with no meaning of their own (billing codes, queues): distinct, none of them
# green, red or orange, so that they never read as answered / unanswered / total
NEUTRAL = ("#1565c0", "#6a1b9a", "#00897b", "#5d4037", "#ad1457", "#455a64", "#9e9d24",
           "#0277bd", "#4527a0", "#00695c")

SERIES = {
    "answered": GREEN, "unanswered": RED, "total": ORANGE, "quantity": ORANGE, "n": ORANGE,
    "calls": ORANGE, "served": GREEN, "unserved": RED, "ok": GREEN, "failed": RED,
    "tel_ans": GREEN, "tel_unans": RED, "called": GREEN, "open": RED,
    "served_inbound": GREEN, "handled_with_callback": BLUE, "forced_closure": BROWN,
    "unanswered_callbacks": ORANGE, "not_managed": RED,
    "cost": ORANGE, "cost_in": GREEN, "cost_out": RED,
    "peak": BLUE, "average": TEAL, "range_average": GREY, "limit": RED,
    "mobile": BLUE, "fixed": TEAL, "toll_free": GREEN, "international": PURPLE,
    "premium": BROWN,
}
STATUS = {"OK": GREEN, "CANCELED": AMBER, "NOANSWER": RED, "BUSY": PURPLE, "FAILED": DARK_RED,
          "UNAVAILABLE": GREY, "FORBIDDEN": BROWN, "??": "#90a4ae"}
EXIT = {"NCC": GREEN, "NCC-AGENT": DARK_GREEN, "NCC-CALLER": LIGHT_GREEN, "ANSWER": GREEN,
        "TRANSFER": TEAL, "ATXFER": TEAL, "CANCELED": AMBER, "CANCELED_NOWAIT": "#fbc02d",
        "NOANSWER": RED, "TIMEOUT": DARK_RED, "BUSY": PURPLE, "UNAVAILABLE": GREY,
        "ANSWERED_ELSEWHERE": BLUE, "REFUSED": BROWN, "JOINEMPTY": "#b0bec5",
        "LEAVEEMPTY": "#90a4ae", "FULL": "#546e7a", "CONGESTION": "#ad1457", "?": "#90a4ae"}


def _code(value: str) -> str:
    return str(value).strip()


def series_color(key: str | None, fallback: str | None = None) -> str | None:
    """The colour of a series by its key; `<direction>_<kind>` keys (the Call Center
    dashboard's `incoming_answered`) take the colour of their kind."""
    if not key:
        return fallback
    k = str(key).lower()
    if k in SERIES:
        return SERIES[k]
    kind = k.rsplit("_", 1)[-1]
    if kind in ("total", "answered", "unanswered"):
        return SERIES[kind]
    return slice_color(key) or fallback


def slice_color(value: str | None) -> str | None:
    """The colour of a pie slice or status series from its code or label in any language."""
    if value is None:
        return None
    v = _code(value)
    low = v.lower()
    if low in SERIES:
        return SERIES[low]
    status = vocabulary.normalize("status", v)
    if status in STATUS:
        return STATUS[status]
    cause = vocabulary.normalize("exit_cause", v)
    if cause in EXIT:
        return EXIT[cause]
    if cause in ("TRASFERIMENTO", "ATXFER"):
        return TEAL
    return None


def colors_for(codes: list, fallback: list | None = None) -> list[str]:
    """One colour per slice: semantic where known, else the report's own, else neutral."""
    out = []
    spare = iter(NEUTRAL * 4)
    for i, c in enumerate(codes):
        given = fallback[i] if fallback and i < len(fallback) else None
        out.append(slice_color(c) or given or next(spare))
    return out
