"""Plotly figures from the chart dicts a report `Result` carries (spec §0.2 item 3:
green = answered, red = unanswered, orange = total drawn as columns)."""

from __future__ import annotations

import plotly.graph_objects as go

from pbxlens.dashboards.i18n import STRINGS, t

_SERIES = ("total", "answered", "unanswered", "quantity")


def _name(key: str, lang: str) -> str:
    return t(key, lang) if key in _SERIES and key in STRINGS else key


def figure(chart: dict, lang: str = "en", *, height: int = 300) -> go.Figure:
    fig = go.Figure()
    if chart.get("type") == "pie":
        s = chart["series"][0]
        fig.add_trace(go.Pie(labels=[_name(x, lang) for x in chart["x"]], values=s["data"],
                             marker={"colors": s.get("colors")} if s.get("colors") else None,
                             hole=0.45, sort=False, textinfo="percent",
                             hovertemplate="%{label}: %{percent:.1%} • %{value}<extra></extra>"))
    else:
        for s in chart.get("series", []):
            name = _name(s.get("key") or s.get("label", ""), lang)
            if s.get("kind") == "column":
                fig.add_trace(go.Bar(x=chart["x"], y=s["data"], name=name,
                                     marker_color=s.get("color"), opacity=0.55))
            else:
                # per-point colours (coincidence occupancy bands) and dashed reference lines;
                # WebGL beyond a few thousand points (a year of 15-minute buckets)
                big = len(s["data"]) > 3000
                trace = go.Scattergl if big else go.Scatter
                mode = "lines" if s.get("dash") or (big and not s.get("colors")) else \
                    "lines+markers"
                fig.add_trace(trace(x=chart["x"], y=s["data"], name=name, mode=mode,
                                    line={"color": s.get("color"), "width": 2,
                                          "dash": s.get("dash")},
                                    marker={"color": s.get("colors") or s.get("color"),
                                            "size": 4 if big else 6}))
    fig.update_layout(title={"text": chart.get("title", ""), "font": {"size": 14}, "x": 0.01},
                      height=height, margin={"l": 40, "r": 10, "t": 40, "b": 30},
                      legend={"orientation": "h", "y": -0.15}, template="plotly_white",
                      hovermode="x unified" if chart.get("type") != "pie" else "closest")
    if chart.get("type") != "pie":
        fig.update_xaxes(tickangle=0, nticks=13)
    return fig


def main_chart(result) -> dict | None:
    """The chart a widget shows: the answered/unanswered pie, else the first report chart,
    else the first table's chart."""
    charts = list(result.charts) + [c for t in result.tables for c in t.charts]
    for c in charts:
        if c.get("id") == "answered_pie":
            return c
    return charts[0] if charts else None
