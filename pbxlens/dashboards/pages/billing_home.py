"""Billing: the billing area's landing page for finance and admin users: links
to the billing reports (generic catalog pages), the tariff/profile/multiservice pages, and the
finance export (`pbxlens billing export` as a download)."""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path

import dash
from dash import Input, Output, State, dcc, html, no_update

from pbxlens import PbxlensError
from pbxlens.billing import carrier, unrated
from pbxlens.billing.export import UnratedCallsError, default_period, export_xlsx
from pbxlens.config import get_settings
from pbxlens.dashboards import access
from pbxlens.dashboards import context as web
from pbxlens.dashboards.i18n import error_text, t
from pbxlens.dashboards.pages.common import error_box, forbidden, page_title
from pbxlens.reports import format as fmt

dash.register_page(__name__, path="/billing", name="Billing", title=page_title("billing"))

TABS = (("/billing", "billing"), ("/billing/tariffs", "tariffs"),
        ("/billing/profiles", "profiles"), ("/billing/multiservice", "multiservice"))
MAX_UPLOAD = 10 * 1024 * 1024  # tariff and profile files are small; the browser holds them


def billing_tabs(current: str, lang: str) -> html.Nav:
    return html.Nav([dcc.Link(t(key, lang), href=path,
                              className="pbx-tab" + (" pbx-tab-on" if path == current else ""))
                     for path, key in TABS], className="pbx-tabs no-print", id="billing-tabs")


def upload_to_file(contents: str, filename: str, folder: str) -> Path:
    """A dcc.Upload payload (data URL) as a file with the upload's suffix (csv/xlsx only)."""
    import base64

    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx", ".txt", ".tsv"):
        raise PbxlensError(f"{filename}: CSV or XLSX only")
    data = base64.b64decode(contents.split(",", 1)[1])
    if len(data) > MAX_UPLOAD:
        raise PbxlensError(f"{filename}: larger than {MAX_UPLOAD} bytes")
    p = Path(folder) / f"upload{suffix}"
    p.write_bytes(data)
    return p


def layout(**_kwargs):
    lang, user = web.lang(), web.user()
    if not access.can_manage_billing(user):
        return forbidden(lang)
    reports = [d for d in access.visible_reports(user) if d.id.startswith("billing.")]
    cards = [dcc.Link(html.Div(d.title(lang), className="pbx-card-title"),
                      href=f"/reports/{d.id}", className="pbx-card pbx-report-card")
             for d in reports]
    start, end = default_period(date.today())
    return html.Div([
        billing_tabs("/billing", lang),
        html.H1(t("billing", lang)),
        html.Section([
            html.H3(t("finance_export", lang)),
            html.Label(t("export_period", lang), className="pbx-muted"),
            html.Div([
                dcc.DatePickerRange(id="bh-dates", start_date=start, end_date=end,
                                    display_format="DD/MM/YYYY", first_day_of_week=1,
                                    minimum_nights=0),
                html.Button(t("download", lang), id="bh-export", n_clicks=0,
                            className="pbx-btn pbx-btn-primary"),
            ], className="pbx-actions"),
            html.Div(unrated_note(start, end, lang), id="bh-unrated"),
            html.Div(id="bh-msg"),
            dcc.Download(id="bh-download"),
        ], className="pbx-card"),
        html.Section([
            html.H3(t("carrier_invoice", lang)),
            html.P(t("carrier_help", lang), className="pbx-muted"),
            html.Div([
                html.Div([html.Label(t("carrier_gateway", lang)),
                          dcc.Input(id="bh-cr-gw", type="text", className="pbx-input")],
                         className="pbx-field"),
                html.Div([html.Label(t("carrier_columns", lang)),
                          dcc.Input(id="bh-cr-cols", type="text", className="pbx-input pbx-code",
                                    placeholder=get_settings().carrier_columns)],
                         className="pbx-field"),
                html.Div([html.Label(t("carrier_format", lang)),
                          dcc.Input(id="bh-cr-fmt", type="text", className="pbx-input",
                                    placeholder=get_settings().carrier_start_format)],
                         className="pbx-field"),
            ], className="pbx-actions"),
            dcc.Upload(html.Button(t("import_file", lang), className="pbx-btn"),
                       id="bh-cr-upload", multiple=False),
            html.Div(id="bh-cr-msg"),
        ], className="pbx-card"),
        html.H3(t("billing_reports", lang)),
        html.Div(cards, className="pbx-card-grid", id="bh-reports"),
    ])


def unrated_note(lo: date | None, hi: date | None, lang: str) -> html.Div:
    """The period's unrated calls (an error to fix before billing), linking to their report."""
    with web.store().cursor() as cur:
        n = unrated.count(cur, lo, hi, tenant=web.user().tenant)
    if not n:
        return html.Div(t("unrated_none", lang), className="pbx-muted")
    href = f"/reports/billing.unrated?from={lo or ''}&to={hi or ''}"
    return html.Div([t("unrated_count", lang, n=fmt.number(n, lang=lang)), " ",
                     dcc.Link(t("unrated_open", lang), href=href)],
                    className="pbx-alert pbx-unrated", **{"data-count": str(n)})


def _day(v: str | None) -> date | None:
    return date.fromisoformat(v[:10]) if v else None


@dash.callback(
    Output("bh-unrated", "children"),
    Input("bh-dates", "start_date"), Input("bh-dates", "end_date"),
    prevent_initial_call=True,
)
def refresh_unrated(start, end):
    if not access.can_manage_billing(web.user()):
        return no_update
    try:
        return unrated_note(_day(start), _day(end), web.lang())
    except ValueError as exc:
        return error_box(error_text(exc, web.lang()))


@dash.callback(
    Output("bh-download", "data"), Output("bh-msg", "children"),
    Input("bh-export", "n_clicks"),
    State("bh-dates", "start_date"), State("bh-dates", "end_date"),
    prevent_initial_call=True,
)
def finance_export(n, start, end):
    if not n:
        return no_update, no_update
    if not access.can_manage_billing(web.user()):
        return no_update, error_box(t("forbidden", web.lang()))
    try:
        lo = date.fromisoformat(start[:10]) if start else None
        hi = date.fromisoformat(end[:10]) if end else None
    except ValueError as exc:
        return no_update, error_box(error_text(exc, web.lang()))
    with tempfile.TemporaryDirectory(prefix="pbxlens-fin-") as tmp:
        out = Path(tmp) / "finance.xlsx"
        with web.store().cursor() as cur:
            try:
                export_xlsx(cur, out, date_from=lo, date_to=hi, tenant=web.user().tenant,
                            lang=web.lang())
            except UnratedCallsError as exc:
                return no_update, error_box(t("unrated_refused", web.lang(),
                                              n=fmt.number(exc.n, lang=web.lang())))
        data = io.BytesIO(out.read_bytes())
    return dcc.send_bytes(data.getvalue(), f"billing_{lo or ''}_{hi or ''}.xlsx"), ""


@dash.callback(
    Output("bh-cr-msg", "children"),
    Input("bh-cr-upload", "contents"),
    State("bh-cr-upload", "filename"), State("bh-cr-gw", "value"),
    State("bh-cr-cols", "value"), State("bh-cr-fmt", "value"),
    prevent_initial_call=True,
)
def carrier_upload(contents, filename, gateway, cols, start_format):
    """Import a carrier invoice detail for a gateway and match it (report billing.carrier)."""
    lang, user = web.lang(), web.user()
    if not access.can_manage_billing(user):
        return error_box(t("forbidden", lang))
    if not contents:
        return no_update
    if not (gateway or "").strip():
        return error_box(t("carrier_no_gateway", lang))
    try:
        with tempfile.TemporaryDirectory(prefix="pbxlens-carrier-") as tmp:
            path = upload_to_file(contents, filename, tmp)
            with web.store().writing() as cur:
                s = carrier.import_invoice(cur, path, gateway.strip(), tenant=user.tenant,
                                           columns_spec=(cols or "").strip() or None,
                                           start_format=(start_format or "").strip() or None)
    except PbxlensError as exc:
        return error_box(error_text(exc, lang))
    href = "/reports/billing.carrier"
    key = "carrier_again" if s.get("already") else "carrier_done"
    return html.Div([t(key, lang, lines=fmt.number(s["lines"], lang=lang),
                       rejected=fmt.number(s["rejected"], lang=lang),
                       matched=fmt.number(s.get("matched", 0), lang=lang)), " ",
                     dcc.Link(t("unrated_open", lang), href=href)], id="bh-cr-done")
