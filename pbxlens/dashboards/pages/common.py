"""Small page helpers shared by the pages."""

from __future__ import annotations

from dash import html

from pbxlens.dashboards.i18n import t


def forbidden(lang: str) -> html.Div:
    return html.Div(t("forbidden", lang), className="pbx-alert", id="pbx-forbidden")


def error_box(message: str) -> html.Div:
    return html.Div(message, className="pbx-alert")
