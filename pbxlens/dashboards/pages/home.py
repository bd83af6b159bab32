"""Home: the reports the user may see, from the catalog."""

from __future__ import annotations

import dash
from dash import dcc, html

from pbxlens.dashboards import access
from pbxlens.dashboards import context as ctx
from pbxlens.dashboards.components.saved_list import saved_views_section
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import page_title

dash.register_page(__name__, path="/", name="Reports", title=page_title("reports"))


def layout(**_kwargs):
    lang = ctx.lang()
    reports = access.visible_reports(ctx.user())
    if not reports:
        return html.Div(t("no_reports", lang), className="pbx-empty", id="home-empty")
    cards = [dcc.Link([html.Div(d.title(lang), className="pbx-card-title"),
                       html.Div(d.en if lang == "it" else d.it, className="pbx-card-sub"),
                       html.Div(d.id, className="pbx-card-id")],
                      href=f"/reports/{d.id}", className="pbx-card pbx-report-card",
                      id={"type": "home-report", "id": d.id})
             for d in reports]
    views = saved_views_section(ctx.store(), ctx.user(), lang)
    return html.Div([views, html.H1(t("reports", lang)),
                     html.Div(cards, className="pbx-card-grid")])
