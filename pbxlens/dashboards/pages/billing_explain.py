"""Why this cost: `/billing/explain/<unique id>` (opened from the calls listed behind a billing
report's cell): the tariffs considered and why each lost, the validity, free minutes, initial
block and increments, answer charge, rounding and the result beside the stored cost."""

from __future__ import annotations

import dash
from dash import dcc, html

from pbxlens import PbxlensError
from pbxlens.dashboards import access, billing_api
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.billing_home import billing_tabs
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title
from pbxlens.reports import format as fmt

dash.register_page(__name__, path_template="/billing/explain/<unique_id>", name="Why this cost",
                   title=page_title("why_cost"))


def _eur(v, lang: str) -> str:
    """Exact money: all 5 decimals (the bill is defended to the last digit)."""
    return "" if v is None else f"€ {fmt.number(v, 5, lang=lang)}"


def _secs(v: int, lang: str) -> str:
    return f"{fmt.number(v, lang=lang)} s"


def _day(d) -> str:
    return fmt.day_label(d) if d else "…"


def _candidates(e, lang: str) -> html.Table:
    head = html.Tr([html.Th(t(k, lang)) for k in ("why_tariff", "tf_prefix", "why_valid",
                                                  "why_rate", "outcome")])
    body = []
    for c in e.candidates:
        if not c.relevant:
            continue
        why = t(f"why_{c.outcome}", lang)
        if c.criterion:
            why += " — " + t(f"why_by_{c.criterion}", lang)
        body.append(html.Tr([
            html.Td(f"{c.tariff_id} · {c.description}"), html.Td(c.prefix or t("any", lang)),
            html.Td(f"{_day(c.valid_from)} – {_day(c.valid_to)}"),
            html.Td(_eur(c.rate, lang)), html.Td(why)],
            className="pbx-why-chosen" if c.outcome == "chosen" else None))
    others = sum(1 for c in e.candidates if not c.relevant)
    return html.Div([html.Table([html.Thead(head), html.Tbody(body)], className="pbx-table"),
                     html.P(t("why_other_prefixes", lang, n=fmt.number(others, lang=lang)),
                            className="pbx-muted") if others else None])


def _steps(e, lang: str) -> html.Dl:
    items: list[tuple[str, str]] = []
    s = e.tariff
    if s is not None:
        items += [
            ("why_tariff", f"{s.tariff_id} · {s.description}"),
            ("tf_prefix", s.prefix or t("any", lang)),
            ("why_valid", f"{_day(s.valid_from)} – {_day(s.valid_to)}"),
            ("why_rate", _eur(s.rate, lang)),
            ("tf_answer_charge", _eur(s.answer_charge, lang))]
        if s.free is not None:
            f = s.free
            items.append(("tf_free_minutes", t(
                "why_free", lang, year=f.year, allowance=_secs(f.allowance_s, lang),
                before=_secs(f.used_before_s, lang), used=_secs(f.used_s, lang),
                left=_secs(f.left_s, lang))))
        items += [
            ("why_billable", _secs(s.billable_s, lang)),
            ("why_charged", t("why_charged_v", lang, charged=_secs(s.charged_s, lang),
                              block=_secs(s.initial_block_s, lang),
                              inc=_secs(s.increment_s, lang))),
            ("why_rounding", t("why_rounding_v", lang, exact=fmt.number(s.rate_exact, 10,
                                                                          lang=lang),
                               part=_eur(s.rate_part, lang))),
            ("why_result", f"{_eur(s.answer_charge, lang)} + {_eur(s.rate_part, lang)} = "
                           f"{_eur(s.answer_charge + s.rate_part, lang)}"),
            *([("why_minimum", t("why_minimum_v", lang, minimum=_eur(s.minimum, lang),
                                 cost=_eur(s.cost, lang)))] if s.minimum_applied else []),
            ("why_nofree", _eur(s.cost_nofree, lang))]
    elif e.profile is not None:
        p = e.profile
        items += [
            ("why_profile", f"{p.profile} · {p.line}"),
            ("why_rule", f"{p.rule_id} · {p.rule_kind} {p.selection or ''}"),
            ("why_result", t("why_profile_v", lang, cf=_eur(p.connection_fee, lang),
                             cs=_secs(p.connection_s, lang), units=p.units,
                             nf=_eur(p.next_fee or 0, lang), ns=_secs(p.next_s, lang),
                             cost=_eur(p.cost, lang)))]
    stored = _eur(e.stored_cost, lang) if e.stored_cost is not None else t("why_unrated", lang)
    items.append(("why_stored", stored))
    return html.Dl([x for k, v in items for x in (html.Dt(t(k, lang)), html.Dd(v))],
                   className="pbx-why-steps")


def _call(e, lang: str) -> html.Section:
    head = t("why_call", lang, dir=t(f"dir_{'incoming' if e.direction == 'in' else 'outgoing'}",
                                     lang),
             start=f"{fmt.day_label(e.start)} {e.start:%H:%M:%S}", number=e.number or "",
             gateway=e.gateway or "", billed=_secs(e.billed_s, lang))
    parts = [html.H3([dcc.Link(e.unique_id, href=f"/journeys/{e.unique_id}"),
                      f" · {e.leg_branch}"]),
             html.P(head),
             html.P(t("why_company_of", lang, company=e.company_name or e.company or "—"),
                    className="pbx-muted")]
    if e.method is None:
        parts.append(error_box(t("why_unrated_long" if e.candidates else "why_no_profile",
                                 lang)))
    elif not e.agrees:
        parts.append(error_box(t("why_stale", lang)))
    if e.candidates:
        parts += [html.H4(t("why_candidates", lang)), _candidates(e, lang)]
    parts.append(_steps(e, lang))
    return html.Section(parts, className="pbx-card pbx-why")


def layout(unique_id: str | None = None, method: str = "tariff", **_kwargs):
    lang, user = web.lang(), web.user()
    if not access.can_manage_billing(user):
        return forbidden(lang)
    head = [billing_tabs("/billing/explain", lang), html.H1(t("why_cost", lang))]
    try:
        found = billing_api.explanations(web.store(), user, unique_id or "",
                                         "profile" if method == "profile" else "tariff")
    except PbxlensError as exc:
        return html.Div([*head, error_box(error_text(exc, lang))], id="why-page")
    return html.Div([*head, *(_call(e, lang) for e in found)], id="why-page")
