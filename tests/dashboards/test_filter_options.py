"""Filter-bar dropdowns: a key shared by two families offers each its own values; billing's
company, cost-center and division filters list the tenant's directory."""

from __future__ import annotations

from pbxlens.reports import all_reports
from pbxlens.store import analytics as db
from tests.dashboards.choices import options


def test_direction_per_family_and_billing_directory_lists(tmp_path):
    all_reports()  # the family modules register their filters
    con = db.connect(tmp_path / "s.duckdb")
    con.execute("INSERT INTO organizations VALUES ('default', 'o1', 'Acme srl'), "
                "('other', 'o9', 'Not mine')")
    con.execute("INSERT INTO cost_centers VALUES ('default', 'cc1', 'Sales')")
    con.execute("INSERT INTO divisions VALUES ('default', 'd1', 'North')")
    assert [o["value"] for o in options(con, "direction", "default", "en", "billing")] \
        == ["in", "out"]
    assert [o["value"] for o in options(con, "direction", "default", "it", "callcenter")] \
        == ["incoming", "local"]
    assert options(con, "company", "default", "en", "billing") == [
        {"value": "o1", "label": "Acme srl"}]
    assert [o["value"] for o in options(con, "cost_center", "default", "en", "billing")] == ["cc1"]
    assert [o["value"] for o in options(con, "division", "default", "en", "billing")] == ["d1"]
    con.close()
