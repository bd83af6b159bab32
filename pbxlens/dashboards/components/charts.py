"""Plotly figures from the chart dicts a report `Result` carries (spec §0.2 item 3:
green = answered, red = unanswered, orange = total drawn as columns)."""

from __future__ import annotations

from pbxlens.dashboards.i18n import STRINGS, t

_SERIES = ("total", "answered", "unanswered", "quantity")


def _name(key: str, lang: str) -> str:
    return t(key, lang) if key in _SERIES and key in STRINGS else key


# The look of plotly's "plotly_white" template, spelled out: a figure is sent as a plain dict,
# because building go.Figure objects (validation of every property, the template expanded into
# each figure) cost ~0.2 s a chart, most of a page's first render.
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8",
         "zerolinewidth": 2, "automargin": True, "ticks": ""}
_FONT = {"color": "#2a3f5f"}
_COLORWAY = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692"]


def figure(chart: dict, lang: str = "en", *, height: int = 300,
           background: str | None = None) -> dict:
    """A plotly figure (as a dict, what dcc.Graph takes) from a report chart."""
    traces: list[dict] = []
    if chart.get("type") == "pie":
        s = chart["series"][0]
        pie = {"type": "pie", "labels": [_name(x, lang) for x in chart["x"]], "values": s["data"],
               "hole": 0.45, "sort": False, "textinfo": "percent",
               "hovertemplate": "%{label}: %{percent:.1%} • %{value}<extra></extra>"}
        if s.get("colors"):
            pie["marker"] = {"colors": s["colors"]}
        traces.append(pie)
    else:
        for s in chart.get("series", []):
            name = _name(s.get("key") or s.get("label", ""), lang)
            if s.get("kind") == "column":
                traces.append({"type": "bar", "x": chart["x"], "y": s["data"], "name": name,
                               "marker": {"color": s.get("color")}, "opacity": 0.55})
            else:
                # per-point colours (coincidence occupancy bands) and dashed reference lines;
                # WebGL beyond a few thousand points (a year of 15-minute buckets)
                big = len(s["data"]) > 3000
                mode = "lines" if s.get("dash") or (big and not s.get("colors")) else \
                    "lines+markers"
                traces.append({"type": "scattergl" if big else "scatter", "x": chart["x"],
                               "y": s["data"], "name": name, "mode": mode,
                               "line": {"color": s.get("color"), "width": 2,
                                        "dash": s.get("dash")},
                               "marker": {"color": s.get("colors") or s.get("color"),
                                          "size": 4 if big else 6}})
    bg = background or "white"
    layout: dict = {
        "title": {"text": chart.get("title", ""), "font": {"size": 14}, "x": 0.01},
        "height": height, "margin": {"l": 40, "r": 10, "t": 40, "b": 30},
        "legend": {"orientation": "h", "y": -0.15}, "font": _FONT, "colorway": _COLORWAY,
        "paper_bgcolor": bg, "plot_bgcolor": bg,
        "hovermode": "x unified" if chart.get("type") != "pie" else "closest",
    }
    if chart.get("type") != "pie":
        layout["xaxis"] = {**_AXIS, "tickangle": 0, "nticks": 13}
        layout["yaxis"] = dict(_AXIS)
    return {"data": traces, "layout": layout}


def main_chart(result) -> dict | None:
    """The chart a widget shows: the answered/unanswered pie, else the first report chart,
    else the first table's chart."""
    charts = list(result.charts) + [c for t in result.tables for c in t.charts]
    for c in charts:
        if c.get("id") == "answered_pie":
            return c
    return charts[0] if charts else None
