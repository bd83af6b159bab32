"""Finance export (issue 8 part 7): one XLSX sheet per breakdown of nexus_modules.md C.4.

Money cells are numbers with a euro format, times are Excel durations, text cells are strings
(never formulas). Each sheet ends with a total row whose values are the exact sums of the
per-call costs (rows carry unrounded 5-dp sums; the format displays 2 dp).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import xlsxwriter

from pbxlens.billing.consumption import BREAKDOWNS, MEASURES, breakdown, totals

LABELS = {
    "calls": "Calls", "calls_in": "Calls in", "calls_out": "Calls out", "seconds": "Time",
    "seconds_in": "Time in", "seconds_out": "Time out", "cost_in": "Cost in", "cost_out": "Cost out",
    "cost": "Cost total", "cost_nofree_in": "Cost in without free minutes",
    "cost_nofree_out": "Cost out without free minutes", "cost_nofree": "Cost total without free minutes",
}
EURO = '[$€-x-euro2] #,##0.00;-[$€-x-euro2] #,##0.00'


def export_xlsx(con: duckdb.DuckDBPyConnection, out: Path, *, date_from: date | None = None,
                date_to: date | None = None, method: str = "tariff",
                tenant: str | None = None) -> dict[str, int]:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    euro = wb.add_format({"num_format": EURO})
    euro_b = wb.add_format({"num_format": EURO, "bold": True})
    dur = wb.add_format({"num_format": "[h]:mm:ss"})
    dur_b = wb.add_format({"num_format": "[h]:mm:ss", "bold": True})
    int_b = wb.add_format({"bold": True})
    counts = {}
    for by, (_, title) in BREAKDOWNS.items():
        rows = breakdown(con, by, date_from=date_from, date_to=date_to, method=method,
                         tenant=tenant)
        ws = wb.add_worksheet(title)
        ws.write_row(0, 0, [title, *(LABELS[m] for m in MEASURES)], bold)
        ws.set_column(0, 0, 28)
        ws.set_column(1, len(MEASURES), 14)
        for i, r in enumerate([*rows, None], start=1):
            last = r is None
            vals = totals(rows) if last else r
            ws.write_string(i, 0, "Total" if last else str(r["key"]), bold if last else None)
            for j, m in enumerate(MEASURES, start=1):
                v = vals[m]
                if m.startswith("cost"):
                    ws.write_number(i, j, float(v), euro_b if last else euro)
                elif m.startswith("seconds"):
                    ws.write_number(i, j, v / 86400, dur_b if last else dur)
                else:
                    ws.write_number(i, j, v, int_b if last else None)
        counts[by] = len(rows)
    wb.close()
    return counts
