"""New ticket (nexus_modules.md B.2, B.10): `GET /tickets/new?caller=NUM&unique_id=ID` is what
the PBX's CTI opens when a call rings or is answered: the form comes pre-filled with the company
and contact found for the number (any written form), the call linked, and the company's open
tickets beside it. External numbers (the caller, those in titles) come masked from the data
layer (`tickets.views.caller_card`) for users without the privacy right."""

from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t, ticket_status
from pbxlens.dashboards.pages.common import forbidden, page_title
from pbxlens.tickets import companies, ticket, views

dash.register_page(__name__, path="/tickets/new", name="New ticket", title=page_title("new_ticket"))


def field(label: str, control, wide: bool = False) -> html.Div:
    return html.Div([html.Label(label), control], className="pbx-field" + (" pbx-field-wide" if wide else ""))


def options(rows, label="name", value="id") -> list[dict]:
    return [{"label": r[label], "value": r[value]} for r in rows]


def users_options(c, tenant: str) -> list[dict]:
    import sqlalchemy as sa

    from pbxlens.store import schema as W

    q = sa.select(W.users.c.id, W.users.c.username).where(
        W.users.c.tenant == tenant, W.users.c.disabled.is_(False)
    )
    return [{"label": n, "value": i} for i, n in c.execute(q.order_by(W.users.c.username))]


def priority_options(c) -> list[dict]:
    import sqlalchemy as sa

    from pbxlens.tickets import schema as S

    p = S.priorities.c
    return [
        {
            "label": html.Span([html.Span("●", style={"color": col}), f" {code} ({d})"]),
            "value": code,
            "search": code,
        }
        for code, d, col in c.execute(sa.select(p.code, p.description, p.color).order_by(p.rank))
    ]


def local_when(value: str | None):
    """A `datetime-local` input value, read as PBX local time."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pbxlens.config import get_settings

    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(get_settings().timezone))


def layout(caller: str | None = None, unique_id: str | None = None, uniqueid: str | None = None, **_kwargs):
    u, lang = web.user(), web.lang()
    # over 80 lines: one declarative Dash tree of the page; its data comes from the data layer in one go
    if not access.can_use_tickets(u):
        return forbidden(lang)
    uid = (unique_id or uniqueid or "").strip() or None
    with web.store().ops_read() as c:
        card = views.caller_card(c, u, caller)
        m, cid, kid, open_t = card.match, card.company_id, card.contact_id, card.open_tickets
        comps = options(companies.list_companies(c, u.tenant))
        contacts = options(companies.list_contacts(c, cid)) if cid else []
        types = [{"label": x, "value": x} for x in companies.allowed_types(c, cid)]
        prios = priority_options(c)
        users = users_options(c, u.tenant)
    head = []
    if caller:
        who = (
            f"{m.company['name']}" + (f" · {m.contact['name']}" if m.contact else "")
            if m and m.company
            else t("unknown_number", lang)
        )
        head.append(
            html.Div(
                [
                    html.B(f"{t('caller', lang)}: "),
                    html.Span(card.shown, id="tn-caller"),
                    " → ",
                    html.Span(who, id="tn-match"),
                ],
                className="pbx-msg",
            )
        )
    if uid:
        head.append(
            html.Div(
                [html.B(f"{t('linked_call', lang)}: "), html.Span(uid, id="tn-call")], className="pbx-muted"
            )
        )
    side = (
        html.Section(
            [
                html.H3(t("open_tickets", lang)),
                html.Ul(
                    [
                        html.Li(
                            dcc.Link(
                                f"{x['number']} · {x['status']} · {x['title']}",
                                href=f"/tickets/edit?id={x['id']}",
                            )
                        )
                        for x in open_t
                    ],
                    id="tn-open",
                ),
            ],
            className="pbx-card",
        )
        if open_t
        else html.Div()
    )
    return html.Div(
        [
            dcc.Location(id="tn-go", refresh=True),
            # the caller's number is not echoed to the browser: "from a call" is enough here
            dcc.Store(id="tn-ctx", data={"unique_id": uid, "from_call": bool(caller or uid)}),
            html.H1(t("new_ticket", lang)),
            *head,
            html.Section(
                [
                    html.Div(
                        [
                            field(
                                t("title", lang) + " *",
                                dcc.Input(id="tn-title", className="pbx-input"),
                                wide=True,
                            ),
                            field(
                                t("account", lang) + " *",
                                dcc.Dropdown(id="tn-account", options=comps, value=cid),
                            ),
                            field(
                                t("account_contact", lang),
                                dcc.Dropdown(id="tn-account-contact", options=contacts, value=kid),
                            ),
                            field(
                                t("final_customer", lang) + " *",
                                dcc.Dropdown(id="tn-final", options=comps, value=cid),
                            ),
                            field(
                                t("final_customer_contact", lang),
                                dcc.Dropdown(id="tn-final-contact", options=contacts, value=kid),
                            ),
                            field(t("type", lang) + " *", dcc.Dropdown(id="tn-type", options=types)),
                            field(t("priority", lang) + " *", dcc.Dropdown(id="tn-priority", options=prios)),
                            field(
                                t("status", lang),
                                dcc.Dropdown(
                                    id="tn-status",
                                    value="nuovo",
                                    clearable=False,
                                    options=[{"label": ticket_status(s, lang), "value": s}
                                             for s in ticket.STATUSES],
                                ),
                            ),
                            field(t("tags", lang), dcc.Input(id="tn-tags", className="pbx-input")),
                            field(
                                t("estimate_hours", lang),
                                dcc.Input(id="tn-estimate", type="number", min=0, className="pbx-input"),
                            ),
                            field(t("in_charge", lang), dcc.Dropdown(id="tn-in-charge", options=users)),
                            field(t("assigned", lang), dcc.Dropdown(id="tn-assigned", options=users)),
                            field(t("extra_emails", lang), dcc.Input(id="tn-extra", className="pbx-input")),
                            field(
                                t("estimated_start", lang),
                                dcc.Input(id="tn-start", type="datetime-local", className="pbx-input"),
                            ),
                            field(
                                t("due_date", lang),
                                dcc.Input(id="tn-due", type="datetime-local", className="pbx-input"),
                            ),
                            field(
                                t("related", lang),
                                dcc.Input(
                                    id="tn-related", placeholder="TICK-0001, ...", className="pbx-input"
                                ),
                            ),
                            html.Div(
                                dcc.Checklist(
                                    id="tn-flags",
                                    value=["notify"],
                                    options=[
                                        {"value": "notify", "label": " " + t("notify_ticket", lang)},
                                        {"value": "external", "label": " " + t("external", lang)},
                                    ],
                                ),
                                className="pbx-field pbx-field-check",
                            ),
                            field(
                                t("description", lang),
                                dcc.Textarea(
                                    id="tn-description",
                                    className="pbx-input",
                                    style={"width": "100%", "height": "90px"},
                                ),
                                wide=True,
                            ),
                        ],
                        className="pbx-filters",
                    ),
                    html.Button(
                        t("save", lang), id="tn-save", n_clicks=0, className="pbx-btn pbx-btn-primary"
                    ),
                    html.Div(id="tn-msg", className="pbx-msg"),
                ],
                className="pbx-card",
            ),
            side,
        ]
    )


@dash.callback(
    Output("tn-account-contact", "options"), Input("tn-account", "value"), prevent_initial_call=True
)
def account_contacts(company_id):
    with web.store().ops_read() as c:
        return options(companies.list_contacts(c, company_id)) if company_id else []


@dash.callback(
    Output("tn-final-contact", "options"),
    Output("tn-type", "options"),
    Input("tn-final", "value"),
    prevent_initial_call=True,
)
def final_contacts(company_id):
    with web.store().ops_read() as c:
        return (
            (options(companies.list_contacts(c, company_id)) if company_id else []),
            [{"label": x, "value": x} for x in companies.allowed_types(c, company_id)],
        )


@dash.callback(
    Output("tn-go", "href"),
    Output("tn-msg", "children"),
    Input("tn-save", "n_clicks"),
    State("tn-title", "value"),
    State("tn-account", "value"),
    State("tn-account-contact", "value"),
    State("tn-final", "value"),
    State("tn-final-contact", "value"),
    State("tn-type", "value"),
    State("tn-priority", "value"),
    State("tn-status", "value"),
    State("tn-tags", "value"),
    State("tn-estimate", "value"),
    State("tn-in-charge", "value"),
    State("tn-assigned", "value"),
    State("tn-extra", "value"),
    State("tn-start", "value"),
    State("tn-due", "value"),
    State("tn-related", "value"),
    State("tn-flags", "value"),
    State("tn-description", "value"),
    State("tn-ctx", "data"),
    prevent_initial_call=True,
)
def save(
    _n,
    title,
    account,
    account_contact,
    final,
    final_contact,
    type_,
    priority,
    status,
    tags,
    estimate,
    in_charge,
    assigned,
    extra,
    start,
    due,
    related,
    flags,
    description,
    ctx,
):
    u = web.user()
    if not access.can_use_tickets(u):
        return no_update, t("forbidden", web.lang())
    missing = [
        k
        for k, v in (
            ("title", title),
            ("account", account),
            ("final_customer", final),
            ("type", type_),
            ("priority", priority),
        )
        if not v
    ]
    if missing:
        return no_update, ", ".join(t(k, web.lang()) for k in missing) + " *"
    ctx = ctx or {}

    def create(c):
        rel = []
        for n in (related or "").replace(";", ",").split(","):
            if n.strip():
                r = ticket.by_number(c, n)
                if r is None:
                    raise PbxlensError(f"no ticket {n.strip()}")
                rel.append(r["id"])
        return ticket.create(
            c,
            related=rel,
            estimated_start=local_when(start),
            due_date=local_when(due),
            user=u,
            title=title,
            account_id=account,
            final_customer_id=final,
            account_contact_id=account_contact,
            final_customer_contact_id=final_contact,
            type=type_,
            priority=priority,
            status=status or "nuovo",
            description=description,
            tags=(tags or "").split(","),
            estimate_hours=estimate,
            in_charge_user_id=in_charge,
            assigned_user_id=assigned,
            extra_notify_emails=extra,
            notify_on="notify" in (flags or []),
            external="external" in (flags or []),
            creation_mode="call" if ctx.get("from_call") else "manual",
            unique_ids=[ctx["unique_id"]] if ctx.get("unique_id") else [],
        )

    try:
        with web.store().ops_write() as c:
            tid = create(c)
    except (PbxlensError, ValueError) as exc:
        return no_update, error_text(exc, web.lang())
    return f"/tickets/edit?id={tid}", ""
