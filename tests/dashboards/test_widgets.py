"""Widgets: saved from a report page (title, report + filters, size, colour, auto-refresh),
rendered on the user's dashboard with the report's main chart, private to their owner."""

from __future__ import annotations

import json

import flask
import plotly
import pytest

from pbxlens import PbxlensError
from pbxlens.dashboards import widgets
from pbxlens.store import users as auth
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
                   {"id": "rp-report", "property": "data", "value": "cdr.queues"},
                   {"id": "rp-w-icon", "property": "value", "value": "📞"},
                   {"id": "rp-w-background", "property": "value", "value": "#ffffff"},
                   {"id": "rp-w-wcolor", "property": "value", "value": "#eeeeee"}])
    assert r.status_code == 200 and "Salvato" in r.text
    u = _user(live, "supfull")
    (w,) = widgets.list_for(live.store, u.id)
    assert (w.title, w.report_id, w.size, w.auto_refresh) == ("Queues this week", "cdr.queues",
                                                              "l", True)
    assert w.params["from"] == DAY1
    assert (w.icon, w.background, w.widget_color, w.url) == ("📞", "#ffffff", "#eeeeee", None)
    with live.app.server.test_request_context("/widgets"):
        flask.g.user = u
        tree = json.dumps(page.layout(), cls=plotly.utils.PlotlyJSONEncoder)
    assert "Queues this week" in tree and "wd-graph" in tree and "Pie" in tree.replace("pie", "Pie")
    assert '"disabled": false' in tree  # the 5-minute interval runs for auto-refresh widgets
    # another user cannot delete it; the owner can
    assert not widgets.delete(live.store, _user(live, "sup").id, w.id)
    assert widgets.delete(live.store, u.id, w.id)
    assert widgets.list_for(live.store, u.id) == []


def test_widget_sources_colours_and_order(live):
    u = _user(live, "acme")  # a user no other test gives widgets
    s = live.store
    with pytest.raises(PbxlensError, match="either a report or a URL"):
        widgets.add(s, u.id, "both", "cdr.queues", {}, url="https://example.org")
    with pytest.raises(PbxlensError, match="http"):
        widgets.add(s, u.id, "bad", None, None, url="javascript:alert(1)")
    with pytest.raises(PbxlensError, match="colour"):
        widgets.add(s, u.id, "bad", "cdr.queues", {}, color="red;x:url(y)")
    a = widgets.add(s, u.id, "A", "cdr.queues", {"filters": {}})
    b = widgets.add(s, u.id, "B", None, None, url="https://example.org/x", icon="🌐")
    c = widgets.add(s, u.id, "C", None, None, url="/reports/cdr.queues")
    ids = [w.id for w in widgets.list_for(s, u.id)]
    assert ids[-3:] == [a.id, b.id, c.id]
    assert widgets.reorder(s, u.id, [c.id, a.id, 999999])[:2] == [c.id, a.id]  # foreign id ignored
    assert [w.id for w in widgets.list_for(s, u.id)][:3] == [c.id, a.id, b.id]
    widgets.move(s, u.id, b.id, -1)
    assert [w.id for w in widgets.list_for(s, u.id)][:3] == [c.id, b.id, a.id]
    other = _user(live, "supfull")
    widgets.reorder(s, other.id, [a.id])  # not theirs: nothing moves
    assert [w.id for w in widgets.list_for(s, u.id)][:3] == [c.id, b.id, a.id]
    for w in (a, b, c):
        widgets.delete(s, u.id, w.id)
