"""Staffing (admin, supervisor): the agents needed per 15/30/60-minute interval of a typical
day by Erlang C (or Erlang A for abandoning callers), from the chosen queues' history, beside
the agents actually logged in and their occupancy (pbxlens.reports.staffing_plan)."""

from __future__ import annotations

from datetime import date

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards import definitions_service as defs
from pbxlens.dashboards.components.charts import figure
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title
from pbxlens.reports import Params
from pbxlens.reports import format as fmt
from pbxlens.reports.common import GREEN, ORANGE

dash.register_page(__name__, path="/staffing", name="Staffing", title=page_title("staffing"))

COLUMNS = (("label", "interval"), ("calls", "calls_per_day"), ("traffic", "erlangs"),
           ("exact", "agents_exact"), ("agents", "agents_needed"),
           ("scheduled", "agents_scheduled"), ("service_level", "expected_sl"),
           ("asa", "expected_asa"), ("occupancy", "expected_occupancy"),
           ("logged_in", "logged_in"), ("actual_occupancy", "actual_occupancy"))


def _num(cid: str, value, lo, hi) -> dcc.Input:
    return dcc.Input(id=cid, type="number", value=value, min=lo, max=hi, step=1,
                     className="pbx-input")


def _field(label: str, control) -> html.Div:
    return html.Div([html.Label(label), control], className="pbx-field")


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return forbidden(lang)
    d_from, d_to = Params(date_from=None).resolved()
    days = [{"value": "weekdays", "label": t("weekdays", lang)},
            {"value": "all", "label": t("every_day", lang)},
            *({"value": k, "label": fmt.weekday_label(i % 7, lang)}
              for i, k in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 1))]
    return html.Div([
        html.H1(t("staffing", lang), id="st-title"),
        html.P(t("staffing_help", lang), className="pbx-muted"),
        html.Div([
            _field(t("queues", lang), dcc.Dropdown(
                id="st-queues", options=defs.queue_choices(web.store(), user), multi=True,
                className="pbx-dd")),
            html.Div([html.Label(t("history", lang)),
                      dcc.DatePickerRange(id="st-dates", start_date=d_from, end_date=d_to,
                                          display_format="DD/MM/YYYY", first_day_of_week=1,
                                          minimum_nights=0, clearable=False)],
                     className="pbx-field pbx-field-dates"),
            _field(t("interval", lang), dcc.RadioItems(
                id="st-minutes", value=30, inline=True,
                options=[{"value": m, "label": f"{m} min"} for m in (15, 30, 60)])),
            _field(t("typical_day", lang), dcc.Dropdown(id="st-day", options=days,
                                                        value="weekdays", clearable=False,
                                                        className="pbx-dd")),
            _field(t("occupancy_cap", lang), _num("st-occupancy", 85, 1, 100)),
            _field(t("shrinkage", lang), _num("st-shrinkage", 30, 0, 95)),
            _field(t("wrap_up", lang), _num("st-wrap", 0, 0, 3600)),
            _field(t("sl_target", lang), _num("st-target", None, 1, 99)),
            _field(t("sl_threshold", lang), _num("st-threshold", None, 0, 3600)),
            dcc.Checklist(id="st-erlang-a", options=[{"value": "a",
                                                      "label": t("erlang_a", lang)}],
                          value=[], className="pbx-field"),
        ], className="pbx-filters pbx-card"),
        html.Button(t("compute", lang), id="st-apply", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
        dcc.Loading(html.Div(id="st-content"), type="dot", color="#1f6feb"),
    ], className="pbx-staffing-page")


def _rows(qp, lang: str) -> list[dict]:
    def dec(v):
        return fmt.cell(v, "decimal", lang=lang)

    def pct(v):
        return fmt.cell(v, "percent", lang=lang)

    return [{"label": iv.label, "calls": dec(iv.calls), "traffic": dec(iv.traffic),
             "exact": dec(iv.exact), "agents": fmt.count(iv.agents, lang=lang),
             "scheduled": fmt.count(iv.scheduled, lang=lang),
             "service_level": pct(iv.service_level),
             "asa": fmt.cell(None if iv.asa_s is None else int(iv.asa_s), "duration", "avg",
                             lang=lang),
             "occupancy": pct(iv.occupancy),
             "logged_in": "" if iv.logged_in is None else dec(iv.logged_in),
             "actual_occupancy": pct(iv.actual_occupancy)}
            for iv in qp.intervals if iv.calls or iv.logged_in]


def _queue_section(qp, lang: str) -> html.Section:
    model = t("erlang_a" if qp.model == "erlang_a" else "erlang_c", lang)
    head = t("staffing_queue_head", lang, model=model, target=qp.target_pct, t=qp.threshold_s,
             aht=fmt.cell(None if qp.aht_s is None else int(qp.aht_s), "duration", "avg",
                          lang=lang), days=qp.days,
             patience=fmt.cell(None if qp.patience_s is None else int(qp.patience_s),
                               "duration", "avg", lang=lang) or "—")
    x = [iv.label for iv in qp.intervals]
    chart = {"id": f"staffing_{qp.qkey}", "title": qp.label, "type": "combo", "x": x,
             "series": [{"key": t("agents_scheduled", lang), "kind": "column", "color": ORANGE,
                         "data": [iv.scheduled for iv in qp.intervals]},
                        {"key": t("agents_needed", lang), "kind": "line", "color": "#1565c0",
                         "data": [iv.agents for iv in qp.intervals]},
                        {"key": t("logged_in", lang), "kind": "line", "color": GREEN,
                         "data": [round(iv.logged_in or 0, 2) for iv in qp.intervals]}]}
    cols = [{"field": f, "headerName": t(k, lang), "type": "rightAligned" if f != "label"
             else None, "width": 120} for f, k in COLUMNS]
    return html.Section([
        html.H3(qp.label, className="pbx-table-title"), html.P(head, className="pbx-muted"),
        dcc.Graph(figure=figure(chart, lang), config={"displaylogo": False}),
        dag.AgGrid(rowData=_rows(qp, lang), columnDefs=cols,
                   dashGridOptions={"domLayout": "autoHeight", "suppressCellFocus": True},
                   className="ag-theme-alpine pbx-grid", style={"width": "100%"}),
    ], className="pbx-card pbx-table-card")


@dash.callback(
    Output("st-content", "children"),
    Input("st-apply", "n_clicks"),
    State("st-queues", "value"), State("st-dates", "start_date"), State("st-dates", "end_date"),
    State("st-minutes", "value"), State("st-day", "value"), State("st-occupancy", "value"),
    State("st-shrinkage", "value"), State("st-wrap", "value"), State("st-target", "value"),
    State("st-threshold", "value"), State("st-erlang-a", "value"),
    prevent_initial_call=True,
)
def compute(n, queues, start, end, minutes, day, occupancy, shrinkage, wrap, target,
            threshold, erlang_a):
    lang = web.lang()
    if not n:
        return no_update
    if not queues:
        return error_box(t("choose_queue", lang))
    try:
        plan = defs.staffing(
            web.store(), web.user(), list(queues), date.fromisoformat(start[:10]),
            date.fromisoformat(end[:10]), minutes=int(minutes), day_kind=day,
            occupancy_cap=int(occupancy or 85) / 100, shrinkage=int(shrinkage or 0) / 100,
            wrap_s=float(wrap or 0), erlang_a="a" in (erlang_a or []),
            target_pct=int(target) if target else None,
            threshold_s=int(threshold) if threshold is not None and threshold != "" else None)
    except (PbxlensError, ValueError, TypeError) as exc:
        return error_box(error_text(exc, lang))
    out = [_queue_section(qp, lang) for qp in plan.queues]
    if len(plan.queues) > 1:
        out.insert(0, html.Div(t("staffing_total", lang,
                                 once=fmt.count(sum(plan.total_scheduled), lang=lang),
                                 each=fmt.count(sum(plan.summed_scheduled), lang=lang)),
                               className="pbx-strip", id="st-total"))
    return out
