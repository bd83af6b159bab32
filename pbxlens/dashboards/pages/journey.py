"""One call's journey: `/journeys/<unique id>`: IVR, queue visits and waits, operators rung,
transfers, the callback request with its booking and history, tickets, the recording link."""

from __future__ import annotations

import dash
from dash import dcc, html

from pbxlens import PbxlensError
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards import definitions_service as defs
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title
from pbxlens.models import vocabulary
from pbxlens.reports import format as fmt

dash.register_page(__name__, path_template="/journeys/<unique_id>", name="Journey",
                   title=page_title("journey"))

_KIND = {"ivr": "step_ivr", "queue": "step_queue", "agent": "step_agent",
         "transfer": "step_transfer", "group": "step_group", "voicemail": "step_voicemail",
         "checktime": "step_checktime", "outbound": "step_outbound", "service": "step_service",
         "other": "step_other"}


# a transfer step's outcome is its kind; every other outcome is an exit cause code
_TRANSFERS = {"attended": "ATXFER", "blind": "BLINDXFER"}


def _outcome(code: str, lang: str) -> str:
    """A step's outcome as the vocabulary names it in `lang` (an unknown code as it is)."""
    return vocabulary.label("exit_cause", _TRANSFERS.get(code, code), lang) if code else ""


def _yes(v, lang: str) -> str:
    return "" if v is None else t("yes" if v else "no", lang)


def _dur(v, lang: str) -> str:
    return "" if v is None else fmt.cell(v, "duration", "avg", lang=lang)


def _steps(j, lang: str) -> html.Table:
    head = html.Tr([html.Th(t(k, lang)) for k in ("start", "step", "name", "outcome",
                                                  "step_answered", "wait_ring", "talk", "detail")])
    body = []
    for s in j.steps:
        d = dict(s.detail)
        if d.get("choice_kind"):  # the IVR's choice: the next destination, by kind and name
            d["choice"] = f"{t(_KIND[d.pop('choice_kind')], lang)} {d.get('choice', '')}"
        d.pop("choice_kind", None)
        detail = ", ".join(f"{t('detail_' + k, lang)}: {v}" for k, v in d.items() if v)
        body.append(html.Tr([
            html.Td(defs.local_time(s.at)),
            html.Td(("└ " if s.level else "") + t(_KIND.get(s.kind, "step_other"), lang),
                    style={"paddingLeft": f"{0.3 + 1.5 * s.level}em"}),
            html.Td(s.label), html.Td(_outcome(s.outcome, lang)), html.Td(_yes(s.answered, lang)),
            html.Td(_dur(s.wait_s, lang)), html.Td(_dur(s.talk_s, lang)), html.Td(detail)],
            className=f"pbx-step pbx-step-{s.kind}"))
    return html.Table([html.Thead(head), html.Tbody(body)], className="pbx-table",
                      id="jy-steps")


def _callback(j, lang: str) -> html.Section | None:
    cb = j.callback
    if not cb:
        return None
    items = [html.Li(f"{t('cb_role', lang)}: {t('cb_' + cb['role'].replace(' ', '_'), lang)}"),
             html.Li(f"{t('cb_state', lang)}: {cb['state']} {cb.get('closure') or ''}"),
             html.Li(f"{t('mc_calls', lang)}: {fmt.count(cb['num_calls'], lang=lang)}")]
    if cb.get("recall_s") is not None:
        items.append(html.Li(f"{t('recall_time', lang)}: {_dur(cb['recall_s'], lang)}"))
    if cb.get("booking"):
        b = cb["booking"]
        items.append(html.Li(f"{t('mc_booked_by', lang)}: {b['booked_by']} "
                             f"({b.get('extension') or ''})"))
    hist = [html.Li(f"{h['at_ts']:%d/%m/%Y %H:%M:%S} · {h['actor']} · {h['action']} "
                    f"{h.get('detail') or ''}") for h in cb["history"]]
    return html.Section([html.H3(t("callback_request", lang)), html.Ul(items),
                         html.H4(t("history", lang)) if hist else None,
                         html.Ul(hist) if hist else None], className="pbx-card",
                        id="jy-callback")


def layout(unique_id: str | None = None, **_kwargs):
    user, lang = web.user(), web.lang()
    if not access.is_manager(user):
        return forbidden(lang)
    try:
        j = defs.call_journey(web.store(), user, unique_id or "")
    except PbxlensError as exc:
        return error_box(error_text(exc, lang))
    c = j.call
    facts = [(t("start", lang), defs.local_time(c["started"])), (t("caller", lang), c["caller"]),
             (t("called", lang), c["called"]),
             (t("direction", lang), t(f"dir_{c['direction']}", lang)),
             (t("status", lang), vocabulary.label("status", c["status"], lang)),
             (t("duration", lang), _dur(c["duration_s"], lang)),
             (t("repeat_caller", lang), _yes(j.repeat, lang)), (t("fcr", lang),
                                                               _yes(j.fcr, lang))]
    sections = [
        dcc.Link("← " + t("journeys", lang), href="/journeys", className="pbx-btn pbx-btn-small"),
        html.H1(f"{t('journey', lang)} {c['unique_id']}", id="jy-title"),
        html.Div([html.Span([html.Span(k + ": ", className="pbx-strip-label"), html.B(v or "—")],
                            className="pbx-strip-item") for k, v in facts],
                 className="pbx-strip", id="jy-call"),
        html.Section([html.H3(t("path", lang)), _steps(j, lang)], className="pbx-card"),
    ]
    cb = _callback(j, lang)
    if cb is not None:
        sections.append(cb)
    if j.tickets:
        sections.append(html.Section([html.H3(t("tickets", lang)), html.Ul([
            html.Li(dcc.Link(f"{tk['number']} · {tk['title']} ({tk['status']})",
                             href=f"/tickets/edit?id={tk['id']}")) for tk in j.tickets])],
            className="pbx-card", id="jy-tickets"))
    if j.recording:
        sections.append(html.Section([html.H3(t("recording", lang)),
                                      html.A(t("recording_open", lang), href=j.recording,
                                             target="_blank", rel="noopener")],
                                     className="pbx-card", id="jy-recording"))
    return html.Div(sections, className="pbx-journey-page")
