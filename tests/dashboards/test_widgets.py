"""Widgets: saved from a report page (title, report + filters, size, colour, auto-refresh),
rendered on the user's dashboard with the report's main chart, private to their owner."""

from __future__ import annotations

import json

import flask
import plotly

from pbxlens.dashboards import auth, widgets
from tests.dashboards.dashcall import dash_call
from tests.dashboards.live import DAY1, DAY2


def _user(live, name):
    return next(u for u in auth.list_users(live.store) if u.username == name)


def test_save_widget_from_report_page_and_render_it(live, client_for):
    from pbxlens.dashboards.pages import widgets as page  # pages register once the app exists

    params = {"from": DAY1, "to": DAY2, "filters": {}, "lang": "en"}
    r = dash_call(client_for("supfull"), [("rp-w-msg", "children")],
                  [{"id": "rp-w-save", "property": "n_clicks", "value": 1}],
                  [{"id": "rp-w-title", "property": "value", "value": "Queues this week"},
                   {"id": "rp-w-size", "property": "value", "value": "l"},
                   {"id": "rp-w-color", "property": "value", "value": "#aa3300"},
                   {"id": "rp-w-refresh", "property": "value", "value": ["y"]},
                   {"id": "rp-params", "property": "data", "value": params},
                   {"id": "rp-report", "property": "data", "value": "cdr.queues"}])
    assert r.status_code == 200 and "Salvato" in r.text
    u = _user(live, "supfull")
    (w,) = widgets.list_for(live.store, u.id)
    assert (w.title, w.report_id, w.size, w.auto_refresh) == ("Queues this week", "cdr.queues",
                                                              "l", True)
    assert w.params["from"] == DAY1
    with live.app.server.test_request_context("/widgets"):
        flask.g.user = u
        tree = json.dumps(page.layout(), cls=plotly.utils.PlotlyJSONEncoder)
    assert "Queues this week" in tree and "wd-graph" in tree and "Pie" in tree.replace("pie", "Pie")
    assert '"disabled": false' in tree  # the 5-minute interval runs for auto-refresh widgets
    # another user cannot delete it; the owner can
    assert not widgets.delete(live.store, _user(live, "sup").id, w.id)
    assert widgets.delete(live.store, u.id, w.id)
    assert widgets.list_for(live.store, u.id) == []
