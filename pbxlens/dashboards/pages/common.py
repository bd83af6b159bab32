"""Small page helpers shared by the pages."""

from __future__ import annotations

from dash import dcc, html

from pbxlens.dashboards.i18n import t

# the admin area's pages: (path, label key), shown as tabs on each of them
ADMIN_TABS = (("/admin/users", "users"), ("/admin/ingest", "ingest"),
              ("/admin/quarantine", "quarantine"), ("/admin/directory", "directory"),
              ("/admin/settings", "settings"))


def forbidden(lang: str) -> html.Div:
    return html.Div(t("forbidden", lang), className="pbx-alert", id="pbx-forbidden")


def error_box(message: str) -> html.Div:
    return html.Div(message, className="pbx-alert")


def admin_tabs(current: str, lang: str) -> html.Nav:
    return html.Nav([dcc.Link(t(key, lang), href=path,
                              className="pbx-tab" + (" pbx-tab-on" if path == current else ""))
                     for path, key in ADMIN_TABS], className="pbx-tabs no-print", id="admin-tabs")


def page_title(key: str | None = None):
    """The tab title of a page in the user's language: Dash calls it per request (with the
    path variables), so an Italian user gets Italian tab titles."""
    from pbxlens.dashboards import context as ctx
    from pbxlens.dashboards.i18n import t

    def title(**_path_variables) -> str:
        return f"pbxlens · {t(key, ctx.lang())}" if key else "pbxlens"

    return title
