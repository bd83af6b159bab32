"""Finance export (nexus_modules.md C.4): one XLSX sheet per breakdown, in the user's language.

- The first sheet says what the workbook holds: the period, the rating method, and the rules
  below. Then one sheet per breakdown (month, date, organization, gateway, operator, cost
  center, division), each ending with its total row.
- Calls count every answered inbound and outbound call of the period (a call no tariff values
  counts at cost 0, C.2), so "Calls in" holds the answered inbound calls.
- Money is rounded once, half-up, to the cent on each row; a total row is the sum of the
  rounded rows above it (BL-8: "table total row = Σ rounded rows"), so the sheet adds up.
- Cells are typed: money numbers with a euro format, times Excel durations, dates and months
  real Excel dates (months shown by name in the workbook's language), text cells strings
  (never formulas).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import xlsxwriter

from pbxlens import PbxlensError
from pbxlens.billing.consumption import BREAKDOWNS, MEASURES, NONE_KEY, breakdown
from pbxlens.billing.unrated import count as unrated_calls_of
from pbxlens.config import get_settings

# (English, Italian): the Nexus Billing dashboard's own Italian labels (C.4)
LABELS: dict[str, tuple[str, str]] = {
    "calls": ("Calls", "Quantità"), "calls_in": ("Calls in", "Quantità in"),
    "calls_out": ("Calls out", "Quantità out"), "seconds": ("Time", "Tempo"),
    "seconds_in": ("Time in", "Tempo in"), "seconds_out": ("Time out", "Tempo out"),
    "cost_in": ("Cost in", "Costo in"), "cost_out": ("Cost out", "Costo out"),
    "cost": ("Cost total", "Costo tot"),
    "cost_nofree_in": ("Cost in without free minutes", "Costo in senza flat"),
    "cost_nofree_out": ("Cost out without free minutes", "Costo out senza flat"),
    "cost_nofree": ("Cost total without free minutes", "Costo tot senza flat"),
}
SHEETS: dict[str, tuple[str, str]] = {
    "month": ("Month", "Mese"), "date": ("Date", "Data"),
    "organization": ("Organization", "Organizzazione"), "gateway": ("Gateway", "Gateway"),
    "operator": ("Operator", "Operatore"), "cost_center": ("Cost center", "Centro di costo"),
    "division": ("Division", "Divisione"),
}
TEXTS: dict[str, tuple[str, str]] = {
    "info": ("Information", "Informazioni"),
    "title": ("Finance export", "Export finanziario"),
    "period": ("Period", "Periodo"), "all": ("all calls", "tutte le chiamate"),
    "method": ("Rating", "Valorizzazione"),
    "tariff": ("Nexus tariffs", "Tariffe Nexus"), "profile": ("PBX billing profiles",
                                                             "Profili di tariffazione del PBX"),
    "total": ("Total", "Totale"), "none": ("(none)", "(nessuno)"),
    "calls_rule": ("Calls count every answered inbound and outbound call of the period; a call "
                   "no tariff values counts at cost 0.",
                   "Le quantità contano tutte le chiamate risposte in ingresso e in uscita del "
                   "periodo; una chiamata che nessuna tariffa valorizza conta con costo 0."),
    "unrated": ("UNRATED CALLS: {n} answered calls of this period match no tariff; they count "
                "at cost 0 here. Fix the tariffs (report billing.unrated, pbxlens billing "
                "explain) before billing.",
                "CHIAMATE NON TARIFFATE: {n} chiamate risposte di questo periodo non "
                "corrispondono ad alcuna tariffa; qui contano con costo 0. Correggere le "
                "tariffe (report billing.unrated, pbxlens billing explain) prima di fatturare."),
    "rounding_rule": ("Money is rounded to the cent on each row (half up); every total is the "
                      "sum of the rounded rows above it.",
                      "Gli importi sono arrotondati al centesimo su ogni riga (per eccesso da "
                      "0,5); ogni totale è la somma delle righe arrotondate soprastanti."),
}
EURO = '[$€-x-euro2] #,##0.00;-[$€-x-euro2] #,##0.00'
MONTH_FORMAT = {"it": "[$-410]mmmm yyyy", "en": "[$-409]mmmm yyyy"}  # names in that language
CENT = Decimal("0.01")


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "it" else pair[0]


class UnratedCallsError(PbxlensError):
    """The period holds unrated calls and the setting billing_unrated is "refuse"."""

    status = 409

    def __init__(self, n: int) -> None:
        super().__init__(f"{n} answered calls of the period match no tariff (unrated): fix the "
                         "tariffs first (pbxlens report billing.unrated; pbxlens billing explain "
                         "UNIQUE_ID), or set billing_unrated = \"mark\" to export them at cost 0, "
                         "marked")
        self.n = n


def unrated_policy(choice: str | None = None) -> str:
    """refuse | mark: `choice`, else the setting billing_unrated."""
    v = (choice or get_settings().billing_unrated or "refuse").strip().lower()
    if v not in ("refuse", "mark"):
        raise PbxlensError(f"setting billing_unrated: refuse or mark, got {v!r}")
    return v


def default_period(today: date) -> tuple[date, date]:
    """The first and last day of the calendar month before `today`'s: the export's default
    period (bills are monthly).

    Example:
        >>> default_period(date(2026, 12, 4))
        (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
        >>> default_period(date(2027, 1, 31))
        (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    """
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def rounded(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows with money rounded half-up to the cent, and their total row: counts and times
    summed, money = the sum of the rounded rows.

    Example:
        >>> rs, tot = rounded([{"key": "a", "calls": 1, "cost": Decimal("0.005")},
        ...                    {"key": "b", "calls": 2, "cost": Decimal("0.005")}])
        >>> [r["cost"] for r in rs], tot["cost"], tot["calls"]
        ([Decimal('0.01'), Decimal('0.01')], Decimal('0.02'), 3)
    """
    out = []
    for r in rows:
        out.append({k: (v.quantize(CENT, rounding=ROUND_HALF_UP) if isinstance(v, Decimal) else v)
                    for k, v in r.items()})
    total: dict[str, Any] = {}
    for k in (k for k in (out[0] if out else {}) if k != "key"):
        total[k] = sum((r[k] for r in out), Decimal(0) if isinstance(out[0][k], Decimal) else 0)
    return out, total


class _Formats:
    """The workbook's cell formats (plain and bold for the total row)."""

    def __init__(self, wb: xlsxwriter.Workbook, lang: str) -> None:
        def fmt(**kw):
            return wb.add_format(kw), wb.add_format({**kw, "bold": True, "top": 1})

        self.head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                   "bg_color": "#EEF2F7", "border": 1})
        self.text, self.text_b = fmt()
        self.euro, self.euro_b = fmt(num_format=EURO)
        self.dur, self.dur_b = fmt(num_format="[h]:mm:ss")
        self.int, self.int_b = fmt(num_format="#,##0")
        self.day = wb.add_format({"num_format": "dd/mm/yyyy", "align": "left"})
        self.month = wb.add_format({"num_format": MONTH_FORMAT.get(lang, MONTH_FORMAT["en"]),
                                    "align": "left"})
        self.note = wb.add_format({"italic": True, "font_color": "#555555"})
        self.title = wb.add_format({"bold": True, "font_size": 13})
        self.alarm = wb.add_format({"bold": True, "font_color": "#B00020"})


def _write_key(ws, row: int, by: str, key: str, f: _Formats, lang: str) -> None:
    if key == NONE_KEY:
        ws.write_string(row, 0, _t(TEXTS["none"], lang), f.text)
    elif by == "month":
        y, m = key.split("-")
        ws.write_datetime(row, 0, date(int(y), int(m), 1), f.month)
    elif by == "date":
        ws.write_datetime(row, 0, date.fromisoformat(key), f.day)
    else:
        ws.write_string(row, 0, str(key), f.text)


def _write_values(ws, row: int, vals: dict[str, Any], f: _Formats, bold: bool) -> None:
    for j, m in enumerate(MEASURES, start=1):
        v = vals[m]
        if m.startswith("cost"):
            ws.write_number(row, j, float(v), f.euro_b if bold else f.euro)
        elif m.startswith("seconds"):
            ws.write_number(row, j, v / 86400, f.dur_b if bold else f.dur)
        else:
            ws.write_number(row, j, v, f.int_b if bold else f.int)


def _info_sheet(wb, f: _Formats, lang: str, date_from, date_to, method: str,
                unrated: int = 0) -> None:
    ws = wb.add_worksheet(_t(TEXTS["info"], lang))
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 90)
    ws.write_string(0, 0, _t(TEXTS["title"], lang), f.title)
    ws.write_string(2, 0, _t(TEXTS["period"], lang), f.text_b)
    if date_from is None and date_to is None:
        ws.write_string(2, 1, _t(TEXTS["all"], lang))
    else:
        lo = date_from.strftime("%d/%m/%Y") if date_from else "…"
        hi = date_to.strftime("%d/%m/%Y") if date_to else "…"
        ws.write_string(2, 1, f"{lo} – {hi}")
    ws.write_string(3, 0, _t(TEXTS["method"], lang), f.text_b)
    ws.write_string(3, 1, _t(TEXTS[method], lang))
    ws.write_string(5, 0, _t(TEXTS["calls_rule"], lang), f.note)
    ws.write_string(6, 0, _t(TEXTS["rounding_rule"], lang), f.note)
    if unrated:
        ws.write_string(8, 0, _t(TEXTS["unrated"], lang).format(n=unrated), f.alarm)


def export_xlsx(con: duckdb.DuckDBPyConnection, out: Path, *, date_from: date | None = None,
                date_to: date | None = None, method: str = "tariff",
                tenant: str | None = None, lang: str = "en",
                unrated_calls: str | None = None) -> dict[str, int]:
    """Write the finance workbook; returns the number of rows of each breakdown sheet (and
    `unrated`: the period's unrated calls). A period with unrated calls is refused
    (UnratedCallsError, nothing written) or marked on the first sheet, per the setting
    billing_unrated (or `unrated_calls`: refuse | mark)."""
    policy = unrated_policy(unrated_calls)
    unrated = unrated_calls_of(con, date_from, date_to, tenant=tenant, method=method)
    if unrated and policy == "refuse":
        raise UnratedCallsError(unrated)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    f = _Formats(wb, lang)
    _info_sheet(wb, f, lang, date_from, date_to, method, unrated)
    counts = {}
    for by in BREAKDOWNS:
        rows, total = rounded(breakdown(con, by, date_from=date_from, date_to=date_to,
                                        method=method, tenant=tenant, with_unrated=True))
        title = _t(SHEETS[by], lang)
        ws = wb.add_worksheet(title)
        ws.write_row(0, 0, [title, *(_t(LABELS[m], lang) for m in MEASURES)], f.head)
        ws.set_row(0, 32)
        ws.set_column(0, 0, 30)
        ws.set_column(1, len(MEASURES), 14)
        ws.freeze_panes(1, 1)
        for i, r in enumerate(rows, start=1):
            _write_key(ws, i, by, r["key"], f, lang)
            _write_values(ws, i, r, f, bold=False)
        last = len(rows) + 1
        ws.write_string(last, 0, _t(TEXTS["total"], lang), f.text_b)
        ws.write_comment(last, 0, _t(TEXTS["rounding_rule"], lang))
        zero = {m: Decimal(0) if m.startswith("cost") else 0 for m in MEASURES}
        _write_values(ws, last, total or zero, f, bold=True)
        counts[by] = len(rows)
    wb.close()
    if unrated:
        counts["unrated"] = unrated
    return counts
