"""The page for an unknown address (Dash shows the module named `not_found_404`), in the
user's language, with a way back."""

from __future__ import annotations

import dash
from dash import dcc, html

from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import page_title

dash.register_page(__name__, path="/404", name="404", title=page_title("not_found"))


def layout(**_kwargs):
    lang = web.lang()
    return html.Div([html.H1(t("not_found", lang)),
                     html.P(t("not_found_hint", lang), className="pbx-muted"),
                     dcc.Link(t("home", lang), href="/", className="pbx-btn")],
                    className="pbx-card", id="pbx-not-found")
