"""The guard on a report run: a range longer than the limit is refused before anything runs; a
query past the time limit is really stopped (DuckDB `interrupt()`), also when the limit falls
between two queries; the web API answers both with a stable error id, and the CLI may lift
them."""

from __future__ import annotations

import time
from datetime import date

import duckdb
import httpx
import pytest

from pbxlens.reports import Guard, Params, Report, run
from pbxlens.reports.catalog import Group
from pbxlens.reports.common import QTY
from pbxlens.reports.engine import RawTable
from pbxlens.reports.guard import RangeTooLong, TimeLimitExceeded
from pbxlens.store import analytics as db
from tests.clirun import pbxlens, pbxlens_process

ALL_TIME = Params(date_from=date(1, 1, 1), date_to=date(9999, 12, 31))
# about a minute of work for DuckDB on two cores: far beyond any limit below
SLOW_SQL = "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3"


def _report(build) -> Report:
    """A report outside the catalog (`run` takes a definition as well as an id)."""
    return Report(id="test.slow", en="slow", it="lento", source="test", build=build,
                  tables_doc="one table", filters=(),
                  layout=(Group("total", "TOTAL", "TOTALE", (QTY,)),))


def _one_query(con, defn, p, d_from, d_to):
    n = con.execute(SLOW_SQL).fetchone()[0]
    return [RawTable("t", "t", [], {"all": {"x": {"n": n}}})], []


def test_a_range_past_the_limit_is_refused_at_once(tmp_path):
    con = db.connect(tmp_path / "s.duckdb")
    t0 = time.perf_counter()
    with pytest.raises(RangeTooLong) as exc:
        run(con, "cdr.dashboard", ALL_TIME, guard=Guard(max_months=25))
    assert time.perf_counter() - t0 < 1
    assert exc.value.error_id == "report-range-too-long" and "25 months" in str(exc.value)
    # 25 months back from the last day, as the default range counts one month back
    ok = Params(date_from=date(2024, 3, 31), date_to=date(2026, 4, 30))
    run(con, "cdr.queues", ok, guard=Guard(max_months=25))
    with pytest.raises(RangeTooLong):
        run(con, "cdr.queues", Params(date_from=date(2024, 3, 30), date_to=date(2026, 4, 30)),
            guard=Guard(max_months=25))


def test_a_slow_query_is_interrupted_at_the_time_limit():
    con = duckdb.connect()
    t0 = time.perf_counter()
    with pytest.raises(TimeLimitExceeded) as exc:
        run(con, _report(_one_query), Params(date_from=date(2026, 5, 4)),
            guard=Guard(time_limit_s=0.5))
    took = time.perf_counter() - t0
    assert 0.5 <= took < 5, took  # stopped, not run to the end
    assert exc.value.error_id == "report-time-limit" and exc.value.status == 503
    assert con.execute("SELECT 42").fetchone() == (42,)  # the connection is usable again


def test_no_query_starts_once_the_time_is_over():
    def slow_python_then_query(con, defn, p, d_from, d_to):
        time.sleep(0.6)  # the timer fires while no query runs
        return _one_query(con, defn, p, d_from, d_to)

    t0 = time.perf_counter()
    with pytest.raises(TimeLimitExceeded):
        run(duckdb.connect(), _report(slow_python_then_query), Params(date_from=date(2026, 5, 4)),
            guard=Guard(time_limit_s=0.3))
    assert time.perf_counter() - t0 < 3


def test_a_fast_report_under_the_guard_equals_the_unguarded_one(tmp_path):
    from pbxlens.reports.export import to_json

    con = db.connect(tmp_path / "s.duckdb")
    p = Params(date_from=date(2026, 5, 1), date_to=date(2026, 5, 31))
    for rid in ("cdr.queues", "cdr.dashboard", "missed.today"):
        assert to_json(run(con, rid, p, guard=Guard(30, 25))) == to_json(run(con, rid, p))


def test_the_web_api_answers_with_the_error_id():
    from tests.dashboards.live import live_server, login

    live = live_server()
    with httpx.Client(base_url=live.base_url, timeout=60) as c:
        assert login(c, "sup").status_code == 302
        t0 = time.perf_counter()
        r = c.get("/api/reports/cdr.dashboard?from=0001-01-01&to=9999-12-31")
        assert time.perf_counter() - t0 < 5
        assert r.status_code == 400
        assert r.json()["error"] == "report-range-too-long"


def test_the_cli_applies_the_setting_and_may_lift_it(tmp_path):
    path = tmp_path / "s.duckdb"
    db.connect(path).close()
    args = ["report", "cdr.queues", "--db", str(path), "--format", "json", "--from",
            "2020-01-01", "--to", "2026-05-31"]
    # a real `python -m pbxlens` (the file's one), then one in this process (tests/clirun.py)
    refused = pbxlens_process(*args, timeout=120)
    assert refused.returncode == 2 and "longer than 25 months" in refused.stderr
    lifted = pbxlens(*args, "--max-months", "0")
    assert lifted.returncode == 0, lifted.stderr
