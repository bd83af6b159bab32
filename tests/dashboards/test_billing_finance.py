"""The billing area for finance on the live server: the bundles statement among the billing
reports (a generic catalog page), and the web finance export refusing, or marking per the
setting billing_unrated, a period with unrated calls (the tariffs the tests create end on the
live store's first day, so the second day's answered external calls stay unrated)."""

from __future__ import annotations

import base64
import io
import json

import flask
import openpyxl
import plotly

from pbxlens.store import users as auth


def _as(live, username):
    return next(x for x in auth.list_users(live.store) if x.username == username)


def _json(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder)


def test_bundles_report_on_the_billing_page(live):
    from pbxlens.dashboards.pages import billing_home, report

    with live.app.server.test_request_context("/"):
        flask.g.user = _as(live, "fin")
        home = _json(billing_home.layout())
        page = _json(report.layout(report_id="billing.bundles"))
        flask.g.user = _as(live, "sup")
        refused = _json(report.layout(report_id="billing.bundles"))
    titles = ("Bundles: flat fee and overage", "Pacchetti: canone ed eccedenza")
    assert "/reports/billing.bundles" in home and any(t in home for t in titles)
    assert any(t in page for t in titles) and not any(t in refused for t in titles)


def test_web_finance_export_refuses_or_marks_unrated_calls(live, monkeypatch):
    from pbxlens.billing import unrated
    from pbxlens.config import get_settings
    from pbxlens.dashboards.pages import billing_home

    with live.store.cursor() as cur:
        n = unrated.count(cur, None, None, tenant="default")
    assert n > 0
    with live.app.server.test_request_context("/"):
        flask.g.user = _as(live, "fin")
        data, msg = billing_home.finance_export(1, None, None)
        assert data is billing_home.no_update
        from pbxlens.dashboards.i18n import t
        from pbxlens.reports import format as fmt

        lang = billing_home.web.lang()
        assert msg.children == t("unrated_refused", lang, n=fmt.number(n, lang=lang))
        monkeypatch.setenv("PBXLENS_BILLING_UNRATED", "mark")
        get_settings.cache_clear()
        try:
            data, msg = billing_home.finance_export(1, None, None)
        finally:
            monkeypatch.delenv("PBXLENS_BILLING_UNRATED")
            get_settings.cache_clear()
    assert msg == ""
    wb = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data["content"])))
    info = [r[0] for r in wb.worksheets[0].iter_rows(values_only=True)]
    assert any(v and str(v).startswith((f"UNRATED CALLS: {n} ", f"CHIAMATE NON TARIFFATE: {n} "))
               for v in info)
