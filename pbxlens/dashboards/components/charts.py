"""Plotly figures from the chart dicts a report `Result` carries (spec §0.2 item 3).

What a chart looks like is decided here, once, for every page and widget:
- series and slice names from the translation catalog (`i18n.series_name`), colours from the
  semantic palette (green = answered, red = unanswered, orange = total as columns);
- the x axis by what its labels are: days and 15-minute slots become a real date axis (plotly
  picks the ticks, so they never overlap), months become month names in the user's language,
  anything else stays categorical;
- durations are plotted in seconds but read as `h:mm` on the axis and `HH:MM:SS` on hover;
- numbers use the language's separators (plotly's `separators`), pie percentages the shared
  formatter; small slices carry no text (no overlapping labels);
- the title is not drawn by plotly (the page shows it above the chart), so the mode bar never
  covers it.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pbxlens.dashboards.components import palette
from pbxlens.dashboards.i18n import series_name, t
from pbxlens.reports import format as fmt

# The look of plotly's "plotly_white" template, spelled out: a figure is sent as a plain dict,
# because building go.Figure objects (validation of every property, the template expanded into
# each figure) cost ~0.2 s a chart, most of a page's first render.
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8",
         "zerolinewidth": 2, "automargin": True, "ticks": ""}
_FONT = {"color": "#2a3f5f"}
_DAY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_SLOT = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$|^(\d{2})-(\d{4})$")
# charts of durations (seconds) among the catalog's reports; a chart may also say unit=duration
_DURATION_IDS = ("daily_duration", "hourly_duration", "weekday_duration", "daily_talk")
SMALL_SLICE = 0.04  # slices under 4 % carry no text inside the pie
SEPARATORS = {"it": ",.", "en": ".,"}


def is_duration(chart: dict) -> bool:
    return chart.get("unit") == "duration" or chart.get("id") in _DURATION_IDS


def title(chart: dict) -> str:
    """The chart's title as the page shows it (the `(s)` unit goes: the axis says h:mm)."""
    text = str(chart.get("title") or "")
    return re.sub(r"\s*\(s\)", "", text) if is_duration(chart) else text


def x_axis(labels: list, lang: str) -> tuple[list, dict]:
    """(x values, axis layout) for the labels of a chart's x axis."""
    xs = [str(x) for x in labels]
    if xs and all(_DAY.match(x) for x in xs):
        days = [date(int(m[3]), int(m[2]), int(m[1])).isoformat()
                for m in (_DAY.match(x) for x in xs)]
        return days, {"type": "date", "tickformat": "%d/%m", "hoverformat": "%d/%m/%Y"}
    if xs and all(_SLOT.match(x) for x in xs):
        slots = [datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5])).isoformat()
                 for m in (_SLOT.match(x) for x in xs)]
        return slots, {"type": "date", "tickformat": "%d/%m\n%H:%M",
                       "hoverformat": "%d/%m/%Y %H:%M"}
    if xs and all(_MONTH.match(x) for x in xs):
        months = []
        for x in xs:
            m = _MONTH.match(x)
            y, mo = (m[1], m[2]) if m[1] else (m[4], m[3])
            months.append(fmt.month_label(date(int(y), int(mo), 1), lang, short=True))
        return months, {"type": "category"}
    return list(labels), {"type": "category", "tickangle": 0, "nticks": 13}


def _y_axis(chart: dict, lang: str) -> dict:
    if is_duration(chart):
        top = max((max((v or 0) for v in s.get("data") or [0]) for s in chart.get("series", [])),
                  default=0)
        vals, texts = fmt.duration_ticks(top)
        return {"tickvals": vals, "ticktext": texts, "title": {"text": t("axis_duration", lang)},
                "range": [0, vals[-1] * 1.02]}
    keys = {s.get("key") for s in chart.get("series", [])}
    if keys & {"cost", "cost_in", "cost_out"}:
        return {"tickformat": ",.0f", "tickprefix": "€ ", "title": {"text": t("axis_cost", lang)}}
    if chart.get("type") == "timeseries":
        return {"tickformat": ",~r", "title": {"text": t("axis_channels", lang)}}
    return {"tickformat": ",~r", "rangemode": "tozero", "title": {"text": t("axis_calls", lang)}}


def _hover(chart: dict, lang: str, s: dict) -> dict:
    if is_duration(chart):
        return {"customdata": [fmt.duration(v, lang=lang) if v is not None else "" for v in
                               s["data"]],
                "hovertemplate": "%{customdata}"}
    return {}


def _pie(chart: dict, lang: str) -> dict:
    s = chart["series"][0]
    values = [v or 0 for v in s["data"]]
    total = sum(values) or 1
    codes = chart.get("codes") or chart["x"]
    names = [series_name(str(c), str(x), lang) for c, x in zip(codes, chart["x"], strict=False)]
    shares = [v / total for v in values]
    pct = [fmt.percent(100 * f, lang=lang, places=1) for f in shares]
    return {"type": "pie", "labels": names, "values": values, "hole": 0.45, "sort": False,
            "text": [p if f >= SMALL_SLICE else "" for p, f in zip(pct, shares, strict=True)],
            "textinfo": "text", "textposition": "inside", "insidetextorientation": "horizontal",
            "customdata": [f"{p} • {fmt.count(v, lang=lang) or 0}"
                           for p, v in zip(pct, values, strict=True)],
            "hovertemplate": "%{label}: %{customdata}<extra></extra>",
            "marker": {"colors": palette.colors_for([str(c) for c in codes], s.get("colors"))}}


def _series(chart: dict, lang: str, x: list, s: dict, i: int) -> dict:
    key = s.get("key") or s.get("label", "")
    name = series_name(str(key), str(s.get("label") or key), lang)
    color = palette.series_color(str(key), s.get("color")) or palette.NEUTRAL[
        i % len(palette.NEUTRAL)]
    if s.get("kind") == "column":
        return {"type": "bar", "x": x, "y": s["data"], "name": name,
                "marker": {"color": color}, "opacity": 0.55, **_hover(chart, lang, s)}
    # per-point colours (coincidence occupancy bands) and dashed reference lines;
    # WebGL beyond a few thousand points (a year of 15-minute buckets)
    big = len(s["data"]) > 3000
    mode = "lines" if s.get("dash") or (big and not s.get("colors")) or len(x) > 60 else \
        "lines+markers"
    return {"type": "scattergl" if big else "scatter", "x": x, "y": s["data"], "name": name,
            "mode": mode, "line": {"color": color, "width": 2, "dash": s.get("dash")},
            "marker": {"color": s.get("colors") or color, "size": 4 if big else 6},
            **_hover(chart, lang, s)}


def figure(chart: dict, lang: str = "en", *, height: int = 300,
           background: str | None = None) -> dict:
    """A plotly figure (as a dict, what dcc.Graph takes) from a report chart."""
    bg = background or "white"
    layout: dict = {
        "height": height, "margin": {"l": 48, "r": 12, "t": 28, "b": 30},
        "legend": {"orientation": "h", "y": -0.18}, "font": _FONT,
        "paper_bgcolor": bg, "plot_bgcolor": bg, "separators": SEPARATORS.get(lang, ".,"),
        "hovermode": "x unified" if chart.get("type") != "pie" else "closest",
    }
    if chart.get("type") == "pie":
        layout["margin"] = {"l": 10, "r": 10, "t": 28, "b": 10}
        return {"data": [_pie(chart, lang)], "layout": layout}
    x, xaxis = x_axis(chart.get("x") or [], lang)
    traces = [_series(chart, lang, x, s, i) for i, s in enumerate(chart.get("series", []))]
    layout["xaxis"] = {**_AXIS, **xaxis}
    layout["yaxis"] = {**_AXIS, **_y_axis(chart, lang)}
    layout["barmode"] = "group"
    return {"data": traces, "layout": layout}


def graph_config(lang: str) -> dict:
    """dcc.Graph's config: the mode bar on hover, without the tools nobody needs, its
    tooltips in the user's language."""
    from pbxlens.dashboards.i18n import plotly_locale

    return {"displaylogo": False, "displayModeBar": "hover", "locale": lang,
            "locales": {lang: plotly_locale(lang)},
            "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d", "toggleSpikelines",
                                       "hoverClosestCartesian", "hoverCompareCartesian"]}


def main_chart(result) -> dict | None:
    """The chart a widget shows: the answered/unanswered pie, else the first report chart,
    else the first table's chart."""
    charts = list(result.charts) + [c for t in result.tables for c in t.charts]
    for c in charts:
        if c.get("id") == "answered_pie":
            return c
    return charts[0] if charts else None
