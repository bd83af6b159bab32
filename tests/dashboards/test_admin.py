"""Admin pages over the live server: settings (effective + stored), directory import through
the page's upload callback, and the quarantine browser's server-side pages."""

from __future__ import annotations

import base64
import json

import flask
import plotly
import pytest

from pbxlens import PbxlensError
from pbxlens.dashboards import admin
from pbxlens.store import users as auth
from tests.dashboards.dashcall import dash_call

QBATCH = 990001


def _layout(live, username, fn, **kw):
    u = next(x for x in auth.list_users(live.store) if x.username == username)
    with live.app.server.test_request_context("/"):
        flask.g.user = u
        return json.dumps(fn(**kw), cls=plotly.utils.PlotlyJSONEncoder)


def test_admin_pages_are_admin_only(live):
    from pbxlens.dashboards.pages import admin_directory, admin_quarantine, admin_settings

    for page in (admin_directory, admin_quarantine, admin_settings):
        assert "pbx-forbidden" in _layout(live, "sup", page.layout)
        assert "pbx-forbidden" not in _layout(live, "admin", page.layout)


def test_settings_effective_and_stored(live, client_for, monkeypatch):
    from pbxlens.dashboards.pages import admin_settings

    monkeypatch.setenv("PBXLENS_SERVICE_LEVEL_S", "20")
    rows = {r["key"]: r for r in admin.effective_settings()}
    assert rows["service_level_s"]["origin"] == "env" and rows["timezone"]["origin"] == "default"
    assert "secret" not in rows["secret_key"]["value"] or "•" in rows["secret_key"]["value"]
    tree = _layout(live, "admin", admin_settings.layout)
    assert "as-readonly" in tree and "max_upload_bytes" in tree
    with pytest.raises(PbxlensError):
        admin.set_ui(live.store, "quarantine_page_size", "3")
    with pytest.raises(PbxlensError):
        admin.set_ui(live.store, "default_lang", "de")
    ids = [{"type": "as-ui", "key": k} for k in admin.UI_SETTINGS]
    vals = {"default_lang": "it", "widget_refresh_min": 7, "quarantine_page_size": 25}
    r = dash_call(client_for("admin"), [("as-msg", "children")],
                  [{"id": "as-save", "property": "n_clicks", "value": 1}],
                  [[{"id": i, "property": "value", "value": vals[i["key"]]} for i in ids],
                   [{"id": i, "property": "id", "value": i} for i in ids]])
    assert r.status_code == 200 and "Salvato" in r.text
    assert admin.get_ui(live.store, "widget_refresh_min") == 7
    assert admin.get_ui(live.store, "quarantine_page_size") == 25
    r = dash_call(client_for("sup"), [("as-msg", "children")],
                  [{"id": "as-save", "property": "n_clicks", "value": 1}],
                  [[{"id": ids[1], "property": "value", "value": 99}],
                   [{"id": ids[1], "property": "id", "value": ids[1]}]])
    assert admin.get_ui(live.store, "widget_refresh_min") == 7  # refused to a supervisor
    admin.set_ui(live.store, "widget_refresh_min", 5)
    admin.set_ui(live.store, "quarantine_page_size", 50)


def _directory_upload(client, doc: dict, name="directory.json"):
    raw = base64.b64encode(json.dumps(doc).encode()).decode()
    return dash_call(client, [("ad-msg", "children"), ("ad-counts", "children")],
                     [{"id": "ad-upload", "property": "contents",
                       "value": f"data:application/json;base64,{raw}"}],
                     [{"id": "ad-upload", "property": "filename", "value": name}])


def test_directory_import_page(live, client_for):
    doc = {"pbxlens_directory": 1, "tenants": [{"domain": "dirtest", "name": "Dir test"}],
           "queues": [{"tenant": "dirtest", "id": "801", "name": "Imported"}],
           "operators": [{"tenant": "dirtest", "extension": "301", "name": "Ada",
                          "accounts": [{"account": "301"}]}]}
    r = _directory_upload(client_for("admin"), doc)
    assert r.status_code == 200, r.text
    assert "ad-done" in r.text and "dirtest" in r.text
    with live.store.cursor() as cur:
        assert cur.execute("SELECT name FROM queues WHERE tenant = 'dirtest'").fetchall() == [
            ("Imported",)]
    bad = _directory_upload(client_for("admin"), {"hello": 1}, "x.json")
    assert "not a pbxlens directory" in bad.text
    assert "forbidden" in _directory_upload(client_for("sup"), doc).text.lower() or \
        "Non puoi" in _directory_upload(client_for("sup"), doc).text


@pytest.fixture(scope="module")
def quarantined(live):
    with live.store.writing() as cur:
        cur.execute("DELETE FROM quarantine WHERE batch_id = ?", [QBATCH])
        cur.executemany(
            "INSERT INTO quarantine (batch_id, source, line, record, raw, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(QBATCH, f"bad_{i % 2}.csv", i + 2, i + 1, f"raw;row;{i:03d};'); DROP TABLE x;--",
              "unparseable start time") for i in range(120)])
    return QBATCH


def test_quarantine_pages_are_server_side(live, quarantined):
    rows, total = admin.quarantine_page(live.store, quarantined, None, 0, 50)
    assert total == 120 and len(rows) == 50 and rows[0]["record"] == 1
    rows, _ = admin.quarantine_page(live.store, quarantined, None, 2, 50)
    assert len(rows) == 20 and rows[-1]["record"] == 120
    rows, total = admin.quarantine_page(live.store, quarantined, "bad_1.csv", 0, 50)
    assert total == 60 and {r["source"] for r in rows} == {"bad_1.csv"}
    rows, total = admin.quarantine_page(live.store, None, "x' OR '1'='1", 0, 50)
    assert (rows, total) == ([], 0)  # bound, not spliced


def test_quarantine_page_callback(client_for, quarantined):
    def call(trigger, page, batch=quarantined, source=None, user="admin"):
        inputs = [{"id": "aq-batch", "property": "value", "value": batch},
                  {"id": "aq-file", "property": "value", "value": source},
                  {"id": "aq-prev", "property": "n_clicks", "value": 0},
                  {"id": "aq-next", "property": "n_clicks", "value": 1}]
        return dash_call(client_for(user), [("aq-grid", "rowData"), ("aq-info", "children"),
                                            ("aq-page", "data")], inputs,
                         [{"id": "aq-page", "property": "data", "value": page}],
                         changed=[trigger])

    r = call("aq-next.n_clicks", 0).json()["response"]
    assert r["aq-page"]["data"] == 1 and len(r["aq-grid"]["rowData"]) == 50
    assert r["aq-grid"]["rowData"][0]["record"] == 51 and "120" in r["aq-info"]["children"]
    r = call("aq-next.n_clicks", 2).json()["response"]  # past the end: the last page
    assert r["aq-page"]["data"] == 2 and len(r["aq-grid"]["rowData"]) == 20
    r = call("aq-batch.value", 2).json()["response"]  # a filter change restarts at page 1
    assert r["aq-page"]["data"] == 0
    r = call("aq-batch.value", 0, user="sup").json()["response"]
    assert r["aq-grid"]["rowData"] == []
