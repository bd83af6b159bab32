"""A ticket (nexus_modules.md B.2, B.7): its fields, status/priority/assignment edits, take in
charge, tracking entries (the first one moves a new ticket to in_lavorazione), replies and
internal notes, attachments (upload form in a frame, size and type limits, download links), and
the calls linked to it as the CDR holds them. Opening the page marks the ticket read for the user
(the bell). The ticket comes from `tickets.views.ticket_details`, masked for the user."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t, ticket_status
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title
from pbxlens.dashboards.pages.tickets_new import field, priority_options, users_options
from pbxlens.tickets import companies, listing, ticket, tracking, views

dash.register_page(__name__, path="/tickets/edit", name="Ticket", title=page_title("ticket"))


def _fmt(v) -> str:
    if isinstance(v, datetime):
        return v.astimezone(ZoneInfo(get_settings().timezone)).strftime("%d/%m/%Y %H:%M:%S")
    return "" if v is None else str(v)


# a grid field -> its header's catalog key, where the two differ
_HEADERS = {"unique_id": "call_id", "date": "tk_date"}


def _grid(grid_id: str, rows: list[dict], fields: tuple[str, ...], lang: str) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id,
        rowData=rows,
        columnDefs=[{"field": f, "headerName": t(_HEADERS.get(f, f), lang)} for f in fields],
        dashGridOptions={"domLayout": "autoHeight"},
        columnSize="sizeToFit",
        className="ag-theme-alpine pbx-grid",
    )


def _details(tk: dict | None, lang: str):
    if tk is None:
        return forbidden(lang)
    info = [
        (t("account", lang), tk["account"]),
        (t("final_customer", lang), tk["final_customer"]),
        (t("status", lang), ticket_status(tk["status"], lang)),
        (t("priority", lang), tk["priority"]),
        (t("type", lang), tk["type"]),
        (t("area", lang), tk["area"]),
        (t("tags", lang), ", ".join(tk["tags"])),
        ("SLA", _fmt(tk["sla_start"])),
        (t("estimated_start", lang), _fmt(tk["estimated_start"])),
        (t("due_date", lang), _fmt(tk["due_date"])),
        (t("in_charge", lang), tk["in_charge"]),
        (t("related", lang), ", ".join(tk["related_numbers"])),
        (t("tracking", lang), tracking.format_hm(tk["tracking_s"])),
        (t("linked_call", lang), ", ".join(tk["unique_ids"])),
    ]
    tracks = [
        {
            "date": _fmt(r["tracked_at"]),
            "duration": tracking.format_hm(r["duration_s"]),
            "type": r["type"],
            "billable": r["billable"],
            "description": r["description"] or "",
        }
        for r in tk["tracking"]
    ]
    return html.Div(
        [
            html.H1([html.Span(tk["number"], id="te-number"), " · ", tk["title"]]),
            html.Dl(
                [x for k, v in info for x in (html.Dt(k), html.Dd(_fmt(v)))],
                className="pbx-dl",
                id="te-info",
            ),
            html.P(tk["description"] or "", className="pbx-muted"),
            html.H3(t("tracking", lang)),
            _grid("te-tracking", tracks, ("date", "duration", "type", "billable", "description"), lang),
            html.H3(t("linked_call", lang)),
            _grid("te-calls", tk["calls"], ("unique_id", "start", "caller", "called", "status", "direction"),
                  lang),
            html.H3(t("messages", lang)),
            html.Ul(
                [
                    html.Li([html.B(f"{_fmt(m['written_at'])} · {m['kind']} · {m['status_at']}: "),
                             m["body"]])
                    for m in tk["messages"]
                ],
                id="te-messages",
            ),
            html.H3(t("attachments", lang)),
            html.Ul(
                [
                    html.Li(
                        html.A(
                            f"{a['filename']} ({a['size_bytes']:,} B)", href=f"/tickets/attachment/{a['id']}"
                        )
                    )
                    for a in tk["attachments"]
                ],
                id="te-attachments",
            ),
        ]
    )


def layout(id: str | None = None, **_kwargs):  # `id`: the query parameter
    u, lang = web.user(), web.lang()
    # over 80 lines: one declarative Dash tree of the page; its data comes from the data layer in one go
    if not access.can_use_tickets(u):
        return forbidden(lang)
    try:
        tid = int(id or "")
    except ValueError:
        return error_box(t("not_found", lang))
    tk = views.ticket_details(web.store(), u, tid)
    if tk is None:
        return forbidden(lang)
    with web.store().ops_read() as c:
        types = [{"label": x, "value": x} for x in companies.allowed_types(c, tk["final_customer_id"])]
        prios, users = priority_options(c), users_options(c, u.tenant)
    with web.store().ops_write() as c:
        ticket.mark_read(c, tid, u.id)
    statuses = [{"label": ticket_status(s, lang), "value": s} for s in ticket.STATUSES]
    return html.Div(
        [
            dcc.Store(id="te-id", data=tid),
            html.Div(_details(tk, lang), id="te-body"),
            html.Section(
                [
                    html.Div(
                        [
                            field(
                                t("status", lang),
                                dcc.Dropdown(
                                    id="te-status", options=statuses, value=tk["status"], clearable=False
                                ),
                            ),
                            field(
                                t("priority", lang),
                                dcc.Dropdown(
                                    id="te-priority", options=prios, value=tk["priority"], clearable=False
                                ),
                            ),
                            field(
                                t("assigned", lang),
                                dcc.Dropdown(id="te-assigned", options=users, value=tk["assigned_user_id"]),
                            ),
                            field(
                                t("tags", lang),
                                dcc.Input(id="te-tags", value=", ".join(tk["tags"]), className="pbx-input"),
                            ),
                        ],
                        className="pbx-filters",
                    ),
                    html.Div(
                        [
                            html.Button(
                                t("save", lang), id="te-save", n_clicks=0, className="pbx-btn pbx-btn-primary"
                            ),
                            html.Button(
                                t("take_charge", lang), id="te-charge", n_clicks=0, className="pbx-btn"
                            ),
                        ],
                        className="pbx-actions",
                    ),
                ],
                className="pbx-card",
            ),
            html.Section(
                [
                    html.H3(t("add_tracking", lang)),
                    html.Div(
                        [
                            field(
                                t("duration_hm", lang),
                                dcc.Input(id="te-duration", placeholder="00:30", className="pbx-input"),
                            ),
                            field(t("type", lang), dcc.Dropdown(id="te-track-type", options=types)),
                            field(
                                t("description", lang), dcc.Input(id="te-track-desc", className="pbx-input")
                            ),
                            html.Div(
                                dcc.Checklist(
                                    id="te-billable",
                                    value=["y"],
                                    options=[{"value": "y", "label": " " + t("billable", lang)}],
                                ),
                                className="pbx-field pbx-field-check",
                            ),
                        ],
                        className="pbx-filters",
                    ),
                    html.Button(
                        t("add_tracking", lang),
                        id="te-track",
                        n_clicks=0,
                        className="pbx-btn pbx-btn-primary",
                    ),
                ],
                className="pbx-card",
            ),
            html.Section(
                [
                    html.H3(t("reply", lang)),
                    dcc.Textarea(id="te-reply", style={"width": "100%", "height": "80px"}),
                    html.Div(
                        [
                            field(t("extra_emails", lang), dcc.Input(id="te-extra", className="pbx-input")),
                            dcc.RadioItems(
                                id="te-kind",
                                value="public",
                                inline=True,
                                options=[
                                    {"value": "public", "label": " " + t("public_reply", lang)},
                                    {"value": "internal", "label": " " + t("internal_note", lang)},
                                ],
                            ),
                        ],
                        className="pbx-filters",
                    ),
                    html.Button(
                        t("reply", lang), id="te-send", n_clicks=0, className="pbx-btn pbx-btn-primary"
                    ),
                ],
                className="pbx-card",
            ),
            html.Section(
                [
                    html.H3(t("attachments", lang)),
                    html.Iframe(src=f"/tickets/{tid}/attach", id="te-upload", className="pbx-upload-frame"),
                ],
                className="pbx-card",
            ),
            html.Div(id="te-msg", className="pbx-msg"),
        ]
    )


@dash.callback(
    Output("te-body", "children"),
    Output("te-msg", "children"),
    Input("te-save", "n_clicks"),
    Input("te-charge", "n_clicks"),
    Input("te-track", "n_clicks"),
    Input("te-send", "n_clicks"),
    State("te-id", "data"),
    State("te-status", "value"),
    State("te-priority", "value"),
    State("te-assigned", "value"),
    State("te-tags", "value"),
    State("te-duration", "value"),
    State("te-track-type", "value"),
    State("te-track-desc", "value"),
    State("te-billable", "value"),
    State("te-reply", "value"),
    State("te-extra", "value"),
    State("te-kind", "value"),
    prevent_initial_call=True,
)
def act(
    _s, _c, _t, _r, tid, status, priority, assigned, tags, duration, ttype, tdesc, billable, body, extra, kind
):
    u, lang, trig = web.user(), web.lang(), dash.ctx.triggered_id
    with web.store().ops_read() as c:
        if not listing.can_see(c, u, tid):
            return no_update, t("forbidden", lang)

    def run(c):
        if trig == "te-save":
            ticket.update(
                c,
                tid,
                status=status,
                priority=priority,
                assigned_user_id=assigned,
                tags=views.edited_tags(c, u, tid, (tags or "").split(",")),
            )
        elif trig == "te-charge":
            ticket.take_charge(c, tid, u)
        elif trig == "te-track":
            tracking.add(
                c,
                tid,
                duration=duration or "",
                type=ttype or "",
                user=u,
                billable="y" in (billable or []),
                description=tdesc,
            )
        elif trig == "te-send":
            ticket.add_message(
                c,
                tid,
                u,
                body or "",
                kind=kind or "public",
                extra_emails=(extra or "").replace(";", ",").split(","),
            )

    try:
        with web.store().ops_write() as c:
            run(c)
    except PbxlensError as exc:
        return no_update, error_text(exc, lang)
    return _details(views.ticket_details(web.store(), u, tid), lang), t("saved", lang)
