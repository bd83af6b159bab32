"""The printed page of a report `Result`: one self-contained HTML document (title, applied
filters with names, header strips, the page's charts drawn by plotly.js, the tables with two-level
headers and the totals row), formatted by the shared formatter like the web page. Chromium
prints it to PDF (`pdf.print_pdf`); nothing is fetched from the network.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from pathlib import Path

from pbxlens.dashboards.components.charts import figure
from pbxlens.reports import Report
from pbxlens.reports import format as fmt
from pbxlens.reports.catalog import Result, TableOut
from pbxlens.reports.export import display_rows, group_spans

_CSS = """
@page { size: A4 landscape; margin: 10mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1d2733; font-size: 9pt; margin: 0; }
h1 { font-size: 16pt; margin: 0 0 2px 0; }
.sub { color: #5b6b7d; margin-bottom: 6px; }
.applied { background: #f4f7fb; padding: 4px 8px; border-radius: 4px; margin: 4px 0 8px 0; }
h2 { font-size: 11pt; margin: 14px 0 4px 0; }
.strip span { margin-right: 14px; }
.strip b { font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 6px; }
.charts > div { page-break-inside: avoid; break-inside: avoid; }
.wrap { width: 100%; overflow: hidden; margin-bottom: 6px; }
table { border-collapse: collapse; margin-top: 4px; }
th, td { border: 1px solid #c9d3df; padding: 2px 4px; }
td { white-space: nowrap; }
th { background: #dde8f4; font-weight: 600; text-align: center; vertical-align: bottom; }
td { text-align: right; }
td.label { text-align: left; }
tr.op td { background: #34495e; color: white; font-weight: 600; }
tr.total td { background: #e8eef6; font-weight: 700; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
.foot { color: #7b8a9b; font-size: 7pt; margin-top: 10px; }
"""

# Wide tables shrink to the page width instead of being cut at the right margin.
_FIT = """
document.querySelectorAll('.wrap').forEach(function (w) {
  var t = w.querySelector('table');
  if (t && t.scrollWidth > w.clientWidth) { t.style.zoom = w.clientWidth / t.scrollWidth; }
});
"""
_WIDE, _PIE = 1040, 340  # px: a chart across the page, a pie beside another


@cache
def _plotly_js() -> str:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text("utf-8")


def _js(value) -> str:
    """JSON inside a <script>: a "</" in a label must not close the element.

    Example:
        >>> _js(["</script>"])
        '["<\\\\/script>"]'
    """
    return json.dumps(value).replace("</", "<\\/")


def _chart_divs(charts: list[dict], lang: str, prefix: str, scripts: list[str]) -> str:
    if not charts:
        return ""
    divs = []
    for i, c in enumerate(charts):
        fig = figure(c, lang)
        for tr in fig["data"]:  # no WebGL in a headless print
            if tr.get("type") == "scattergl":
                tr["type"] = "scatter"
        pie = c.get("type") == "pie"
        fig["layout"].update(width=_PIE if pie else _WIDE, height=240 if pie else 220)
        el = f"{prefix}-{i}"
        divs.append(f'<div id="{el}"></div>')
        scripts.append(f"Plotly.newPlot({_js(el)}, {_js(fig['data'])}, {_js(fig['layout'])}, "
                       "{staticPlot: true});")
    return f'<div class="charts">{"".join(divs)}</div>'


def column_chunks(groups: list[tuple[int, int]], max_cols: int = 14) -> list[tuple[int, int]]:
    """Column ranges that each fit a landscape page: whole groups where they fit, a group wider
    than a page split on its own.

    Example:
        >>> column_chunks([(0, 4), (5, 9), (10, 29)], max_cols=12)
        [(0, 9), (10, 21), (22, 29)]
    """
    chunks: list[tuple[int, int]] = []
    for i, j in groups:
        if chunks and j - chunks[-1][0] + 1 <= max_cols:
            chunks[-1] = (chunks[-1][0], j)
            continue
        for k in range(i, j + 1, max_cols):
            chunks.append((k, min(j, k + max_cols - 1)))
    return chunks


def _row_classes(t: TableOut) -> list[str]:
    """op (an operator row followed by its accounts), '' (other rows), total (the last)."""
    out = []
    for idx, r in enumerate(t.rows):
        nxt = t.rows[idx + 1] if idx + 1 < len(t.rows) else None
        out.append("op" if not r.get("level") and nxt is not None and nxt.get("level") == 1
                   else "")
    return [*out, "total"]


def _table(t: TableOut, lang: str) -> str:
    """The table, its columns cut into page-wide parts (the row labels repeated in each)."""
    cols = t.columns
    rows = display_rows(t, lang)
    classes = _row_classes(t)
    spans = group_spans(cols)
    parts = []
    for a, b in column_chunks(spans) or [(0, -1)]:
        groups = "".join(f'<th colspan="{min(j, b) - max(i, a) + 1}">{escape(cols[i].group)}</th>'
                         for i, j in spans if j >= a and i <= b)
        heads = "".join(f"<th>{escape(c.label)}</th>" for c in cols[a:b + 1])
        body = "".join(
            f'<tr class="{cls}"><td class="label">{escape(cells[0])}</td>'
            + "".join(f"<td>{escape(c)}</td>" for c in cells[1 + a:b + 2]) + "</tr>"
            for cells, cls in zip(rows, classes, strict=True))
        parts.append(f'<div class="wrap"><table><thead><tr><th rowspan="2">'
                     f'{escape(t.row_header or "")}</th>{groups}</tr><tr>{heads}</tr></thead>'
                     f"<tbody>{body}</tbody></table></div>")
    return "".join(parts)


def _strip(t: TableOut, lang: str) -> str:
    if not t.summary_fields:
        return ""
    items = "".join(
        f"<span>{escape(sf['label'])}: <b>"
        f"{escape(fmt.cell(t.summary.get(sf['key']), sf['unit'], 'avg', lang=lang) or '—')}"
        "</b></span>" for sf in t.summary_fields)
    return f'<div class="strip">{items}</div>'


def html_page(result: Result, report: Report | None, lang: str, applied: str,
              footer: str = "", no_rows: str = "") -> str:
    """The whole document; `applied` is the applied-filter line (`reports.applied.line`)."""
    scripts: list[str] = []
    other = (report.en if lang == "it" else report.it) if report else ""
    parts = [f"<h1>{escape(result.title)}</h1>"]
    if other:
        parts.append(f'<div class="sub">{escape(other)}</div>')
    parts.append(f'<div class="applied">{escape(applied)}</div>')
    parts.append(_chart_divs(result.charts, lang, "rc", scripts))
    for i, t in enumerate(result.tables):
        parts.append(f"<section><h2>{escape(t.title)}</h2>{_strip(t, lang)}"
                     f"{_chart_divs(t.charts, lang, f'tc{i}', scripts)}{_table(t, lang)}</section>")
    if not result.tables and no_rows:
        parts.append(f"<p>{escape(no_rows)}</p>")
    if footer:
        parts.append(f'<div class="foot">{escape(footer)}</div>')
    return ("<!doctype html><html lang=\"" + escape(lang) + "\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(result.title)}</title><style>{_CSS}</style>"
            f"<script>{_plotly_js()}</script></head><body>{''.join(parts)}"
            f"<script>{''.join(scripts)}{_FIT}</script></body></html>")
