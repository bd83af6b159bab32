"""Home: the reports the user may see, from the catalog, grouped by section (CDR, Call Center,
Missed calls, Billing), with a search box that filters them as one types (titles in both
languages and ids match). A user with no report (the operator) lands on their start page."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, dcc, html

from pbxlens.dashboards import access
from pbxlens.dashboards import context as ctx
from pbxlens.dashboards.components.saved_list import saved_views_section
from pbxlens.dashboards.i18n import t
from pbxlens.dashboards.pages.common import page_title

dash.register_page(__name__, path="/", name="Reports", title=page_title("reports"))

# (report id prefix, section key) in the order the sections are shown; other prefixes go last
SECTIONS = (("cdr.", "section_cdr"), ("cc.", "section_cc"), ("feedback.", "section_cc"),
            ("missed.", "section_missed"), ("billing.", "section_billing"))
OTHER = "section_other"


def section_of(report_id: str) -> str:
    return next((key for prefix, key in SECTIONS if report_id.startswith(prefix)), OTHER)


def grouped(reports: list) -> list[tuple[str, list]]:
    """[(section key, reports)] in the sections' order, catalog order inside a section."""
    order = list(dict.fromkeys([key for _p, key in SECTIONS] + [OTHER]))
    by: dict[str, list] = {}
    for d in reports:
        by.setdefault(section_of(d.id), []).append(d)
    return [(key, by[key]) for key in order if key in by]


def _card(d, lang: str):
    return dcc.Link(html.Div(d.title(lang), className="pbx-card-title"),
                    href=f"/reports/{d.id}", className="pbx-card pbx-report-card",
                    id={"type": "home-report", "id": d.id})


def layout(**_kwargs):
    lang, user = ctx.lang(), ctx.user()
    reports = access.visible_reports(user)
    if not reports:  # (the server sends such a user to their start page first)
        return html.Div(t("no_reports", lang), className="pbx-empty", id="home-empty")
    groups = grouped(reports)
    shown = [d for _key, items in groups for d in items]  # the cards in page order
    sections = [html.Section([html.H2(t(key, lang), className="pbx-section-title"),
                              html.Div([_card(d, lang) for d in items],
                                       className="pbx-card-grid")],
                             id={"type": "home-section", "id": key})
                for key, items in groups]
    views = saved_views_section(ctx.store(), user, lang)
    return html.Div([
        views,
        html.Div([html.H1(t("reports", lang)),
                  dcc.Input(id="home-search", type="search", debounce=False,
                            placeholder=t("search_reports", lang), className="pbx-input "
                            "pbx-search", autoComplete="off")], className="pbx-home-head"),
        dcc.Store(id="home-index", data=[f"{d.en} {d.it} {d.id}".lower() for d in shown]),
        dcc.Store(id="home-sections", data=[section_of(d.id) for d in shown]),
        html.Div(id="home-none", className="pbx-empty", style={"display": "none"},
                 **{"data-text": t("no_report_matches", lang, q="{q}")}),
        *sections,
    ])


# Filter as one types, in the browser: hide the cards that do not match every word, and the
# sections left without a card.
dash.clientside_callback(
    """
    function(q, index, sectionOf, sectionIds) {
        var words = (q || "").toLowerCase().split(/\\s+/).filter(Boolean);
        var shown = index.map(function (text) {
            return words.every(function (w) { return text.indexOf(w) >= 0; });
        });
        var cards = shown.map(function (s) { return s ? {} : {display: "none"}; });
        var alive = {};
        shown.forEach(function (s, i) { if (s) { alive[sectionOf[i]] = true; } });
        var sections = sectionIds.map(function (id) {
            return alive[id.id] ? {} : {display: "none"};
        });
        var none = document.getElementById("home-none");
        var noneStyle = {display: "none"};
        if (words.length && !shown.some(Boolean) && none) {
            none.textContent = none.dataset.text.replace("{q}", q);
            noneStyle = {};
        }
        return [cards, sections, noneStyle];
    }
    """,
    Output({"type": "home-report", "id": ALL}, "style"),
    Output({"type": "home-section", "id": ALL}, "style"),
    Output("home-none", "style"),
    Input("home-search", "value"),
    State("home-index", "data"), State("home-sections", "data"),
    State({"type": "home-section", "id": ALL}, "id"),
    prevent_initial_call=True,
)
