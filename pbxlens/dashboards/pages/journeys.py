"""Call journeys (admin, supervisor): one row per call of a range, with its queues, who
answered, transfer, callback, repeat caller and first-contact resolution; each call opens its
path (`/journeys/<unique id>`)."""

from __future__ import annotations

from datetime import date

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards import definitions_service as defs
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title
from pbxlens.reports import Params
from pbxlens.reports import format as fmt

dash.register_page(__name__, path="/journeys", name="Journeys", title=page_title("journeys"))

COLUMNS = (("unique_id", "call_id"), ("started", "start"), ("caller", "caller"),
           ("called", "called"), ("status", "status"), ("wait", "wait"),
           ("queues", "queues"), ("answered_by", "answered_by"),
           ("transferred", "transferred"), ("callback", "callback"),
           ("repeat", "repeat_caller"), ("fcr", "fcr"))


def _yes(v, lang: str) -> str:
    return "" if v is None else t("yes" if v else "no", lang)


def rows_of(res, lang: str) -> list[dict]:
    return [{"unique_id": f"[{r['unique_id']}](/journeys/{r['unique_id']})",
             "started": defs.local_time(r["started"]), "caller": r["caller"] or "",
             "called": r["called"] or "", "status": r["status"],
             "wait": fmt.cell(r["wait_s"], "duration", "avg", lang=lang),
             "queues": r["queues"], "answered_by": r["answered_by"] or "",
             "transferred": _yes(r["transferred"], lang), "callback": _yes(r["callback"], lang),
             "repeat": _yes(r["repeat"], lang), "fcr": _yes(r["fcr"], lang)}
            for r in res.rows]


def layout(**kwargs):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return forbidden(lang)
    d_from, d_to = Params(date_from=None).resolved()
    d_from = max(d_from, d_to.replace(day=1))
    queues = defs.queue_choices(web.store(), user)
    cols = [{"field": f, "headerName": t(k, lang),
             **({"cellRenderer": "markdown", "linkTarget": "_self", "pinned": "left"}
                if f == "unique_id" else {})} for f, k in COLUMNS]
    return html.Div([
        html.H1(t("journeys", lang), id="jl-title"),
        html.P(t("journeys_help", lang), className="pbx-muted"),
        html.Div([
            html.Div([html.Label(t("date_range", lang)),
                      dcc.DatePickerRange(id="jl-dates", start_date=d_from, end_date=d_to,
                                          display_format="DD/MM/YYYY", first_day_of_week=1,
                                          minimum_nights=0, clearable=False)],
                     className="pbx-field pbx-field-dates"),
            html.Div([html.Label(t("number", lang)),
                      dcc.Input(id="jl-number", type="text", className="pbx-input",
                                value=kwargs.get("number") or "")], className="pbx-field"),
            html.Div([html.Label(t("queue", lang)),
                      dcc.Dropdown(id="jl-queue", options=queues, className="pbx-dd")],
                     className="pbx-field"),
            html.Div([html.Label(t("repeat_window", lang)),
                      dcc.Input(id="jl-hours", type="number", min=1, max=744, step=1,
                                className="pbx-input")], className="pbx-field"),
            dcc.Checklist(id="jl-flags", options=[
                {"value": "all", "label": t("every_direction", lang)},
                {"value": "repeat", "label": t("repeat_only", lang)}], value=[],
                className="pbx-field"),
        ], className="pbx-filters pbx-card"),
        html.Button(t("search", lang), id="jl-apply", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
        html.Div(id="jl-info", className="pbx-applied"),
        dag.AgGrid(id="jl-grid", rowData=[], columnDefs=cols,
                   defaultColDef={"resizable": True, "sortable": True},
                   dashGridOptions={"pagination": True, "paginationPageSize": 50,
                                    "suppressCellFocus": True},
                   className="ag-theme-alpine pbx-grid", style={"height": "640px"}),
    ], className="pbx-journeys-page")


@dash.callback(
    Output("jl-grid", "rowData"), Output("jl-info", "children"),
    Input("jl-apply", "n_clicks"),
    State("jl-dates", "start_date"), State("jl-dates", "end_date"), State("jl-number", "value"),
    State("jl-queue", "value"), State("jl-hours", "value"), State("jl-flags", "value"),
)
def search(_n, start, end, number, queue, hours, flags):
    lang = web.lang()
    try:
        res = defs.journeys(web.store(), web.user(), date.fromisoformat(start[:10]),
                            date.fromisoformat(end[:10]), number=(number or "").strip() or None,
                            queue=queue or None, direction=None if "all" in (flags or [])
                            else "incoming", repeat_only="repeat" in (flags or []),
                            hours=int(hours) if hours else None, limit=5000)
    except (PbxlensError, ValueError, TypeError) as exc:
        return no_update, error_box(error_text(exc, lang))
    info = t("journeys_found", lang, n=fmt.count(res.total, lang=lang), hours=res.hours)
    if res.truncated:
        info += " · " + t("drill_first", lang, shown=fmt.count(len(res.rows), lang=lang),
                          total=fmt.count(res.total, lang=lang))
    return rows_of(res, lang), info
