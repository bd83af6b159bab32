"""A report asked for one tenant counts only that tenant's calls."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pbxlens.ingest import ingest_paths
from pbxlens.reports import engine
from pbxlens.reports.export import to_dict
from pbxlens.reports.filters import Params
from pbxlens.store import analytics as db

SAMPLE = Path(__file__).parents[2] / "data" / "samples" / "kalliope" / "cdr_summary.csv"


def _calls(con, tenant: str | None) -> int:
    day = date(2026, 3, 2)
    totals = to_dict(engine.run(con, "cdr.dashboard", Params(date_from=day, date_to=day,
                                                             tenant=tenant)))["tables"][0]["totals"]
    return (totals.get("total.answered") or 0) + (totals.get("total.unanswered") or 0)


def test_tenant_scope(tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    two = tmp_path / "two_tenants.csv"
    rows = [f"{r},{'acme' if i % 3 == 0 else 'default'}" for i, r in enumerate(body)]
    two.write_text("\n".join([header + ",tenant", *rows]) + "\n", encoding="utf-8")
    con = db.connect(tmp_path / "t.duckdb")
    ingest_paths(con, [two])
    acme = sum(1 for i in range(len(body)) if i % 3 == 0)
    assert _calls(con, None) == len(body)
    assert _calls(con, "acme") == acme
    assert _calls(con, "default") == len(body) - acme
    assert _calls(con, "nobody") == 0
