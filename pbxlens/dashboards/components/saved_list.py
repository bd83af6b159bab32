"""The home page's "Saved views" section: the user's views and those shared with their tenant,
each a link to its report with the view's filters and period in the URL."""

from __future__ import annotations

from dash import dcc, html

from pbxlens.dashboards.i18n import t
from pbxlens.reports import get
from pbxlens.store import Stores
from pbxlens.store.users import User
from pbxlens.views import saved


def saved_views_section(store: Stores, user: User | None, lang: str) -> html.Section | None:
    views = saved.visible(store, user)
    if not views:
        return None
    cards = [dcc.Link([html.Div(v.name, className="pbx-card-title"),
                       html.Div(get(v.report_id).title(lang), className="pbx-card-sub"),
                       html.Div(f"{v.period_label(lang)} · "
                                f"{t('shared' if v.shared else 'private', lang)}"
                                + (f" · {v.owner_name}" if v.owner != user.id else ""),
                                className="pbx-card-id")],
                      href=v.url, className="pbx-card pbx-report-card",
                      id={"type": "home-view", "id": v.id})
             for v in views]
    return html.Section([html.H2([t("saved_views", lang), " ",
                                 dcc.Link("⚙", href="/views", className="pbx-btn pbx-btn-small",
                                          title=t("views_page", lang))]),
                         html.Div(cards, className="pbx-card-grid")], id="home-views")
