"""Generates docs/reports.md from the catalog: `python -m pbxlens.reports.docs > docs/reports.md`."""

from __future__ import annotations

from pbxlens.reports.catalog import BlockGroups, Group, all_filters, all_reports
from pbxlens.reports.common import BLOCK_ORDER


def _metrics(ms) -> str:
    return ", ".join(f"{m.en} / *{m.it}*" + (f" [{m.kind}]" if m.kind != "sum" else "")
                     for m in ms)


def render() -> str:
    reports = all_reports()
    out = ["# Reports", "",
           "Generated from the catalog (the reports registered by the modules of",
           "`pbxlens/reports/`, see `pbxlens/reports/catalog.py`) by",
           "`python -m pbxlens.reports.docs > docs/reports.md`; a test keeps it up to date.", "",
           "Common rules: dates are PBX-local days, both inclusive (`--to` through 23:59:59); "
           "CDR reports place a call by its start time. Averages are Σ seconds / count, "
           "floored (blank when the count is 0); totals rows and header strips are weighted "
           "(Σ time / Σ count). Zero quantities and time sums display blank. Durations show "
           "`Ngg HH:MM:SS` from 24 h (dashboard tables: cumulative hours). Exit-cause column "
           "groups appear only when they occur in the table, in this order: "
           + ", ".join(f"`{c}`" for c in BLOCK_ORDER) + " (unknown codes alphabetically "
           "before `?`). Weekdays are Sunday first.", "",
           "JSON (`pbxlens report ID --format json`): `{report, title, filters, tables: [{key, "
           "title, row_header, columns: [{key, label, group, unit}], rows: [{label, level, key, "
           "<column key>: value}], totals, summary, summary_fields: [{key, label, unit}], "
           "charts}], charts, definitions}`. Units: `count` (int), `duration` / `duration_h` "
           "(int seconds), `percent` (percent points, 2 decimals half-up), `money` (string of "
           "the exact Decimal), `decimal` (a number with 2 decimals, e.g. Erlangs), `instant` "
           "(epoch seconds, shown in the PBX timezone; 0 = none). A blank average is `null`. "
           "Account rows have `level` 1, the "
           "totals row `level` \"total\". Charts: `{id, title, type: combo|pie|timeseries, x: "
           "[labels], series: [{key, label, color, kind, data}]}` (green answered, red "
           "unanswered, orange total); a series may add `colors` (one per point) and `dash`.",
           "",
           "CSV: one table → plain (`label, level, <column keys>`); several → a leading "
           "`table` column and the union of columns. XLSX: one sheet per table, two-level "
           "merged header, typed cells (`[h]:mm:ss` durations, integers, `0.00%`), totals "
           "row, frozen header, autofilter.", "", "## Filters", "",
           "| key | English | Italiano | meaning |", "|---|---|---|---|"]
    for f in all_filters():
        out.append(f"| `{f.key}` | {f.en} | {f.it} | {f.doc} |")
    out.append("")
    out.append("Multi-value: `--filter queue=700,701` or repeated `--filter`.")
    for d in reports:
        out += ["", f"## `{d.id}` — {d.en}", "", f"- Italian title: *{d.it}*",
                f"- Source: {d.source}", f"- Grouping: {d.tables_doc}",
                f"- Filters: {', '.join(f'`{k}`' for k in d.filter_keys)}",
                f"- Charts: {d.charts_doc}", "", "Columns:", ""]
        for item in d.layout:
            if isinstance(item, Group):
                out.append(f"- **{item.en}** / *{item.it}*"
                           + (" (only when present)" if item.optional else "")
                           + f": {_metrics(item.metrics)}")
            elif isinstance(item, BlockGroups) and item.doc:  # a non exit-cause template
                out.append(f"- **{item.doc}**: " + _metrics(item.metrics_for("")))
            elif isinstance(item, BlockGroups):
                out.append("- **one group per exit cause present** (answered families): "
                           + _metrics(item.metrics_for(item.order[0])))
                out.append("- **one group per exit cause present** (unanswered): "
                           + _metrics(item.metrics_for("CANCELED")))
        if d.summary:
            out += ["", "Header strip (divides by the table quantity): "
                    + ", ".join(f"{s.en} / *{s.it}*" for s in d.summary)]
        out += ["", "Definitions:", ""]
        out += [f"- *{t}*: {text}" for t, text in d.definitions]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render())
