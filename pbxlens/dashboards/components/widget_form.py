"""The "Widget da un report" form (spec §0.6): title, report or URL, icon, size, colour,
background, widget colour, auto-refresh. Shared by the report page (source = that report and
its current filters) and the dashboard's "+" (source = a report chosen here, or a URL).
Ids are `<prefix>-title`, `<prefix>-size`, ... so each page owns its own."""

from __future__ import annotations

from dash import dcc, html

from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.widgets import ICONS

FIELDS = ("title", "size", "color", "refresh", "icon", "background", "wcolor")


def _field(label: str, control, cls: str = "pbx-field") -> html.Div:
    return html.Div([html.Label(label), control], className=cls)


def widget_fields(prefix: str, lang: str, title: str = "", reports: list | None = None) -> list:
    """The form's fields; with `reports` (a list of (id, label)) it also asks for the source."""
    fields = [_field(t("widget_title", lang),
                     dcc.Input(id=f"{prefix}-title", value=title, className="pbx-input"))]
    if reports is not None:
        fields += [
            _field(t("source_report", lang),
                   dcc.Dropdown(id=f"{prefix}-report", placeholder=t("choose_report", lang),
                                options=[{"value": i, "label": lbl} for i, lbl in reports])),
            _field(t("source_url", lang),
                   dcc.Input(id=f"{prefix}-url", type="text", placeholder="https://…",
                             className="pbx-input")),
        ]
    sizes = [{"value": s, "label": t(n, lang)} for s, n in
             (("s", "small"), ("m", "medium"), ("l", "large"))]
    fields += [
        _field(t("icon", lang), dcc.Dropdown(id=f"{prefix}-icon", value=ICONS[0],
                                             options=[{"value": i, "label": i} for i in ICONS])),
        _field(t("size", lang), dcc.Dropdown(id=f"{prefix}-size", value="m", clearable=False,
                                             options=sizes)),
        _field(t("colour", lang), dcc.Input(id=f"{prefix}-color", type="color", value="#1f6feb",
                                            className="pbx-input pbx-color")),
        _field(t("background", lang), dcc.Input(id=f"{prefix}-background", type="color",
                                                value="#ffffff", className="pbx-input pbx-color")),
        _field(t("widget_colour", lang), dcc.Input(id=f"{prefix}-wcolor", type="color",
                                                   value="#f6f8fb",
                                                   className="pbx-input pbx-color")),
        html.Div(dcc.Checklist(id=f"{prefix}-refresh", value=[],
                               options=[{"value": "y", "label": " " + t("auto_refresh", lang)}]),
                 className="pbx-field pbx-field-check"),
    ]
    return fields


def widget_form(prefix: str, lang: str, title: str = "", reports: list | None = None,
                heading: str = "widget_from_report") -> html.Div:
    return html.Div([
        html.H3(t(heading, lang)),
        html.Div(widget_fields(prefix, lang, title, reports), className="pbx-filters"),
        html.Button(t("save", lang), id=f"{prefix}-save", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
        html.Button(t("close", lang), id=f"{prefix}-close", n_clicks=0, className="pbx-btn"),
        html.Span(id=f"{prefix}-msg", className="pbx-msg"),
    ], id=f"{prefix}-form", className="pbx-card no-print", style={"display": "none"})
