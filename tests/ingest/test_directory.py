from __future__ import annotations

import json

from tests.ingest.helpers import load


def test_directory_loads_every_dimension(sim_all, store):
    r = load(store, sim_all / "directory.json")
    assert r.format == "directory_json" and r.error is None
    doc = json.loads((sim_all / "directory.json").read_text())
    counts = dict(store.execute(
        "SELECT 'operators', count(*) FROM operators UNION ALL SELECT 'queues', count(*) FROM queues"
        " UNION ALL SELECT 'gateways', count(*) FROM gateways"
        " UNION ALL SELECT 'accounts', count(*) FROM accounts").fetchall())
    assert counts["operators"] == len(doc["operators"])
    assert counts["queues"] == len(doc["queues"])
    assert counts["gateways"] == len(doc["gateways"])
    assert counts["accounts"] == sum(len(o["accounts"]) for o in doc["operators"])
    assert store.execute("SELECT count(*) FROM accounts WHERE tenant <> 'default'").fetchone()[0] == 0


def test_a_newer_directory_replaces_the_tenant_snapshot(sim_all, store, tmp_path):
    load(store, sim_all / "directory.json")
    doc = json.loads((sim_all / "directory.json").read_text())
    doc["operators"] = doc["operators"][:3]
    p = tmp_path / "directory2.json"
    p.write_text(json.dumps(doc))
    load(store, p)
    assert store.execute("SELECT count(*) FROM operators").fetchone()[0] == 3


def test_invalid_directory_is_a_clear_error(store, tmp_path):
    p = tmp_path / "directory.json"
    p.write_text('{"pbxlens_directory": 1, "operators": [{"name": "no extension"}]}')
    r = load(store, p)
    assert "operators.0.extension" in r.error
