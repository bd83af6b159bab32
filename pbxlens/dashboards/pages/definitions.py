"""Definitions (admin, supervisor): each queue's service-level definition (threshold, target,
variant, short abandons) and the business-hours calendars (weekly hours, holidays, closures)
with the queues, or the tenant, that follow them. Edits go to the operations store; a writer
job copies them to the analytics store for the reports."""

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
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.reports import calendars, definitions
from pbxlens.store.schema import SL_VARIANTS

dash.register_page(__name__, path="/definitions", name="Definitions",
                   title=page_title("definitions"))


def _variant_options(lang: str) -> list[dict]:
    return [{"value": v, "label": definitions.FORMULAS[v][1 if lang == "it" else 0]}
            for v in SL_VARIANTS]


def _def_rows(lang: str) -> list[dict]:
    user, store = web.user(), web.store()
    own = {d.qkey: d for d in definitions.list_definitions(store, user.tenant)}
    dflt = definitions.default()
    rows = []
    for q in defs.queue_choices(store, user):
        d = own.get(q["value"], dflt)
        rows.append({"qkey": q["value"], "queue": q["label"], "threshold": d.threshold_s,
                     "target": d.target_pct, "short": d.short_abandon_s,
                     "variant": definitions.FORMULAS[d.variant][1 if lang == "it" else 0],
                     "own": t("yes" if q["value"] in own else "default_def", lang)})
    return rows


def _cal_rows(lang: str) -> list[dict]:
    user, store = web.user(), web.store()
    assigned = calendars.assignments(store, user.tenant)
    out = []
    for c in calendars.list_calendars(store, user.tenant):
        out.append({
            "id": c.id, "name": c.name,
            "country": c.country + (f"/{c.subdiv}" if c.subdiv else ""),
            "hours": calendars.format_hours(c.hours),
            "holidays": ", ".join(f"{d:02d}/{m:02d} {n}".strip() for m, d, n in c.holidays),
            "closures": ", ".join(f"{a:%d/%m/%Y}–{b:%d/%m/%Y} {n}".strip()
                                  for a, b, n in c.closures),
            "assigned": ", ".join(q or t("whole_tenant", lang)
                                  for q, cid in sorted(assigned.items()) if cid == c.id)})
    return out


def _grid(gid: str, cols: list[tuple[str, str]], rows: list[dict], lang: str) -> dag.AgGrid:
    # long texts (formulas, holiday lists) wrap in their cell rather than being cut
    return dag.AgGrid(id=gid, rowData=rows, columnSize="sizeToFit",
                      columnDefs=[{"field": f, "headerName": t(k, lang)} for f, k in cols],
                      defaultColDef={"wrapText": True, "autoHeight": True,
                                     "wrapHeaderText": True, "autoHeaderHeight": True},
                      dashGridOptions={"domLayout": "autoHeight", "suppressCellFocus": True},
                      className="ag-theme-alpine pbx-grid")


def _field(label: str, control) -> html.Div:
    return html.Div([html.Label(label), control], className="pbx-field")


def _num(cid: str, value=None, lo=0, hi=3600) -> dcc.Input:
    return dcc.Input(id=cid, type="number", value=value, min=lo, max=hi, step=1,
                     className="pbx-input")


def _definitions_card(lang: str, queues: list[dict]) -> html.Section:
    d = definitions.default()
    return html.Section([
        html.H3(t("sl_definitions", lang)),
        html.P(t("sl_definitions_help", lang), className="pbx-muted"),
        _grid("df-grid", [("queue", "queue"), ("threshold", "sl_threshold"),
                          ("target", "sl_target"), ("variant", "sl_variant"),
                          ("short", "short_abandon"), ("own", "own_definition")],
              _def_rows(lang), lang),
        html.Div([
            _field(t("queue", lang), dcc.Dropdown(id="df-queue", options=queues,
                                                  className="pbx-dd")),
            _field(t("sl_threshold", lang), _num("df-threshold", d.threshold_s)),
            _field(t("sl_target", lang), _num("df-target", d.target_pct, 1, 100)),
            _field(t("sl_variant", lang), dcc.Dropdown(id="df-variant", value=d.variant,
                                                       options=_variant_options(lang),
                                                       clearable=False, className="pbx-dd")),
            _field(t("short_abandon", lang), _num("df-short", d.short_abandon_s, 0, 600)),
        ], className="pbx-filters"),
        html.Button(t("save", lang), id="df-save", n_clicks=0, className="pbx-btn pbx-btn-primary"),
        html.Button(t("back_to_default", lang), id="df-delete", n_clicks=0, className="pbx-btn"),
        html.Span(id="df-msg", className="pbx-msg"),
    ], className="pbx-card")


def _calendars_card(lang: str, queues: list[dict]) -> html.Section:
    cal_opts = [{"value": str(r["id"]), "label": r["name"]} for r in _cal_rows(lang)]
    return html.Section([
        html.H3(t("calendars", lang)),
        html.P(t("calendars_help", lang), className="pbx-muted"),
        _grid("cal-grid", [("name", "calendar"), ("country", "holidays_of"),
                           ("hours", "opening_hours"), ("holidays", "local_holidays"),
                           ("closures", "closures"), ("assigned", "assigned_to")],
              _cal_rows(lang), lang),
        html.H4(t("calendar_edit", lang)),
        html.Div([
            _field(t("calendar", lang), dcc.Input(id="cal-name", type="text",
                                                  className="pbx-input")),
            _field(t("country", lang), dcc.Input(id="cal-country", type="text", value="IT",
                                                 className="pbx-input")),
            _field(t("province", lang), dcc.Input(id="cal-subdiv", type="text",
                                                  placeholder="MI", className="pbx-input")),
            _field(t("opening_hours", lang), dcc.Input(
                id="cal-hours", type="text", className="pbx-input", style={"width": "28em"},
                placeholder="mon-fri 08:30-13:00 14:00-18:00; sat 09:00-12:00")),
        ], className="pbx-filters"),
        html.Button(t("save", lang), id="cal-save", n_clicks=0,
                    className="pbx-btn pbx-btn-primary"),
        html.H4(t("calendar_days", lang)),
        html.Div([
            _field(t("calendar", lang), dcc.Dropdown(id="cal-pick", options=cal_opts,
                                                     className="pbx-dd")),
            _field(t("local_holiday_day", lang), dcc.Input(id="cal-holiday", type="text",
                                                           placeholder="24/06",
                                                           className="pbx-input")),
            _field(t("closure_days", lang), dcc.DatePickerRange(
                id="cal-closure", display_format="DD/MM/YYYY", first_day_of_week=1,
                minimum_nights=0)),
            _field(t("day_name", lang), dcc.Input(id="cal-day-name", type="text",
                                                  className="pbx-input")),
        ], className="pbx-filters"),
        html.Button(t("add_holiday", lang), id="cal-add-holiday", n_clicks=0,
                    className="pbx-btn"),
        html.Button(t("add_closure", lang), id="cal-add-closure", n_clicks=0,
                    className="pbx-btn"),
        html.Div([
            _field(t("assign_to", lang), dcc.Dropdown(
                id="cal-queue", options=[{"value": "", "label": t("whole_tenant", lang)},
                                         *queues], value="", clearable=False,
                className="pbx-dd")),
        ], className="pbx-filters"),
        html.Button(t("assign", lang), id="cal-assign", n_clicks=0, className="pbx-btn"),
        html.Button(t("unassign", lang), id="cal-unassign", n_clicks=0, className="pbx-btn"),
        html.Button(t("delete", lang), id="cal-delete", n_clicks=0, className="pbx-btn"),
        html.Span(id="cal-msg", className="pbx-msg"),
    ], className="pbx-card")


def layout(**_kwargs):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return forbidden(lang)
    queues = defs.queue_choices(web.store(), user)
    return html.Div([
        html.H1(t("definitions", lang), id="df-title"),
        _definitions_card(lang, queues),
        _calendars_card(lang, queues),
    ], className="pbx-definitions-page")


# ----------------------------------------------------------------------------- callbacks


@dash.callback(
    Output("df-msg", "children"), Output("df-grid", "rowData"),
    Input("df-save", "n_clicks"), Input("df-delete", "n_clicks"),
    State("df-queue", "value"), State("df-threshold", "value"), State("df-target", "value"),
    State("df-variant", "value"), State("df-short", "value"),
    prevent_initial_call=True,
)
def save_definition(_save, _delete, qkey, threshold, target, variant, short):
    lang = web.lang()
    if not qkey:
        return t("choose_queue", lang), no_update
    try:
        if dash.ctx.triggered_id == "df-delete":
            defs.delete_definition(web.store(), web.user(), qkey)
        else:
            defs.set_definition(web.store(), web.user(), qkey, threshold_s=int(threshold or 0),
                                target_pct=int(target or 0), variant=variant,
                                short_abandon_s=int(short or 0))
    except (PbxlensError, ValueError, TypeError) as exc:
        return error_text(exc, lang), no_update
    return t("saved_definitions", lang), _def_rows(lang)


@dash.callback(
    Output("df-threshold", "value"), Output("df-target", "value"),
    Output("df-variant", "value"), Output("df-short", "value"),
    Input("df-queue", "value"), prevent_initial_call=True,
)
def load_definition(qkey):
    if not qkey:
        return no_update, no_update, no_update, no_update
    d = definitions.get_definition(web.store(), web.user().tenant, qkey)
    return d.threshold_s, d.target_pct, d.variant, d.short_abandon_s


@dash.callback(
    Output("cal-msg", "children"), Output("cal-grid", "rowData"), Output("cal-pick", "options"),
    Input("cal-save", "n_clicks"), Input("cal-add-holiday", "n_clicks"),
    Input("cal-add-closure", "n_clicks"), Input("cal-assign", "n_clicks"),
    Input("cal-unassign", "n_clicks"), Input("cal-delete", "n_clicks"),
    State("cal-name", "value"), State("cal-country", "value"), State("cal-subdiv", "value"),
    State("cal-hours", "value"), State("cal-pick", "value"), State("cal-holiday", "value"),
    State("cal-closure", "start_date"), State("cal-closure", "end_date"),
    State("cal-day-name", "value"), State("cal-queue", "value"),
    prevent_initial_call=True,
)
def calendar_edit(*args):
    lang = web.lang()
    (name, country, subdiv, hours, pick, holiday, c_from, c_to, day_name, qkey) = args[6:]
    store, user, trig = web.store(), web.user(), dash.ctx.triggered_id
    try:
        if trig == "cal-save":
            existing = {r["name"]: r["id"] for r in _cal_rows(lang)}
            defs.save_calendar(store, user, name or "", hours or "", country or "", subdiv,
                               existing.get((name or "").strip()))
        elif not pick:
            return t("choose_calendar", lang), no_update, no_update
        elif trig == "cal-add-holiday":
            d, m = (int(x) for x in (holiday or "").split("/"))
            defs.calendar_action(store, user, "holiday", pick, month=m, day=d,
                                 name=day_name or "")
        elif trig == "cal-add-closure":
            if not c_from:
                return t("choose_days", lang), no_update, no_update
            defs.calendar_action(store, user, "closure", pick,
                                 day_from=date.fromisoformat(c_from[:10]),
                                 day_to=date.fromisoformat((c_to or c_from)[:10]),
                                 name=day_name or "")
        elif trig in ("cal-assign", "cal-unassign"):
            defs.calendar_action(store, user, trig[4:], pick, qkey=qkey or "")
        elif trig == "cal-delete":
            defs.calendar_action(store, user, "delete", pick)
    except ValueError:
        return t("bad_day", lang), no_update, no_update
    except PbxlensError as exc:
        return error_text(exc, lang), no_update, no_update
    rows = _cal_rows(lang)
    return (t("saved_definitions", lang), rows,
            [{"value": str(r["id"]), "label": r["name"]} for r in rows])
