"""`pbxlens definitions | calendars | drill | journeys | journey | staffing` on a store of
simulated calls: in this process (tests/clirun.py), `definitions list` in a real
`python -m pbxlens`."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import Params, run
from pbxlens.simulate import generate
from pbxlens.store import analytics as db
from tests.clirun import pbxlens as cli
from tests.clirun import pbxlens_process

DAY1, DAY2 = "2026-05-04", "2026-05-05"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    generate(folder / "src", days=2, calls_per_day=150, seed=9, start=date(2026, 5, 4),
             formats=["csv-detailed"])
    path = folder / "store.duckdb"
    con = db.connect(path)
    ingest_paths(con, [folder / "src"])
    con.close()
    return path


def test_definitions_and_calendars(store):
    d = str(store)
    r = cli("definitions", "set", "700", "--db", d, "--threshold", "30", "--variant", "answered")
    assert r.returncode == 0, r.stderr
    assert "T = 30 s" in r.stdout
    assert "answered" in pbxlens_process("definitions", "list", "--db", d).stdout
    bad = cli("definitions", "set", "700", "--db", d, "--variant", "nope")
    assert bad.returncode == 2 and "variant" in bad.stderr and "Traceback" not in bad.stderr
    out = json.loads(cli("report", "cdr.queues", "--db", d, "--from", DAY1, "--to", DAY2,
                         "--format", "json").stdout)
    assert any("T = 30 s" in x["definition"] for x in out["definitions"])
    assert cli("definitions", "delete", "700", "--db", d).returncode == 0
    r = cli("calendars", "add", "Sede", "--db", d, "--hours", "mon-fri 09:00-13:00",
            "--province", "MI")
    assert r.returncode == 0, r.stderr
    assert cli("calendars", "holiday", "Sede", "24/06", "--name", "patrono", "--db",
               d).returncode == 0
    assert cli("calendars", "closure", "Sede", "2026-08-10", "2026-08-14", "--db",
               d).returncode == 0
    assert cli("calendars", "assign", "Sede", "--db", d).returncode == 0
    listed = cli("calendars", "list", "--db", d).stdout
    assert "Sede" in listed and "patrono" in listed
    every, inside, outside = (
        json.loads(cli("report", "cdr.dashboard", "--db", d, "--from", DAY1, "--to", DAY2,
                       "--format", "json", *f).stdout)["tables"][0]["totals"]
        for f in ([], ["--filter", "hours=open"], ["--filter", "hours=closed"]))
    assert 0 < (inside["total.answered"] or 0) < every["total.answered"]
    assert (inside["total.answered"] or 0) + (outside["total.answered"] or 0) == \
        every["total.answered"]
    assert cli("calendars", "delete", "Sede", "--db", d).returncode == 0
    assert cli("calendars", "holiday", "Nope", "24/06", "--db", d).returncode == 2


def test_drill_journeys_journey_staffing(store):
    d = str(store)
    con = db.connect(store, read_only=True)
    try:
        res = run(con, "cdr.queues", Params(date_from=date(2026, 5, 4),
                                            date_to=date(2026, 5, 5)))
    finally:
        con.close()
    row = res.tables[0].rows[0]
    r = cli("drill", "cdr.queues", "--db", d, "--from", DAY1, "--to", DAY2, "--row",
            row["key"], "--column", "total.n", "--format", "csv")
    assert r.returncode == 0, r.stderr
    listed = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(listed) == row["total.n"]
    assert cli("drill", "cdr.queues", "--db", d, "--column", "answered.avg_talk").returncode == 2
    j = cli("journeys", "--db", d, "--from", DAY1, "--to", DAY2, "--format", "json")
    assert j.returncode == 0, j.stderr
    calls = json.loads(j.stdout)
    assert calls and {"repeat", "fcr", "queues"} <= set(calls[0])
    one = json.loads(cli("journey", listed[0]["unique_id"], "--db", d, "--format",
                         "json").stdout)
    assert one["call"]["unique_id"] == listed[0]["unique_id"]
    assert any(s["kind"] == "queue" for s in one["steps"])
    assert "queue" in cli("journey", listed[0]["unique_id"], "--db", d).stdout
    s = cli("staffing", "--queue", "700", "--db", d, "--from", DAY1, "--to", DAY2,
            "--interval", "60", "--format", "json")
    assert s.returncode == 0, s.stderr
    plan = json.loads(s.stdout)
    assert len(plan["queues"][0]["intervals"]) == 24
    assert cli("staffing", "--queue", "700", "--db", d, "--interval", "20").returncode == 2
