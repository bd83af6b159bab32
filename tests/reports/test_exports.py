"""Exports (XLSX read back with openpyxl vs JSON, CSV, JSON shape), formatter, CLI, docs, SQL."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlglot

from pbxlens.reports import Params, all_reports, export, run
from pbxlens.reports import format as fmt
from pbxlens.reports.docs import render
from tests.clirun import pbxlens

ROOT = Path(__file__).resolve().parents[2]
IDS = ["cdr.dashboard", "cdr.queues", "cdr.queue_operators", "cdr.queues_by_date",
       "cdr.queues_by_hour", "cdr.operators", "cdr.operator_accounts"]


@pytest.fixture(scope="module")
def one(stores):
    return stores[0]


@pytest.mark.parametrize("rid", IDS)
def test_xlsx_matches_json(one, rid, tmp_path):
    res = run(one.con(), rid, Params(date_from=one.d_from, date_to=one.d_to, lang="it"))
    doc = json.loads(export.to_json(res))
    assert set(doc) >= {"report", "title", "filters", "tables"}
    path = tmp_path / "r.xlsx"
    export.to_xlsx(res, path)
    wb = openpyxl.load_workbook(path)
    assert len(wb.worksheets) == max(1, len(doc["tables"]))
    for ws, t in zip(wb.worksheets, doc["tables"], strict=False):
        assert set(t) >= {"title", "columns", "rows", "totals", "summary"}
        cols = t["columns"]
        assert ws.freeze_panes == "B4"
        assert ws.auto_filter.ref
        labels = [ws.cell(3, 2 + i).value for i in range(len(cols))]
        assert labels == [c["label"] for c in cols]
        groups_merged = any(True for _ in ws.merged_cells.ranges) or len(cols) < 2
        assert groups_merged
        for r_i, row in enumerate([*t["rows"], t["totals"]]):
            assert ws.cell(4 + r_i, 1).value == row["label"]
            for c_i, c in enumerate(cols):
                cell = ws.cell(4 + r_i, 2 + c_i)
                v = row.get(c["key"])
                if v is None:
                    assert cell.value is None
                elif c["unit"].startswith("duration"):
                    got = cell.value
                    secs = got.total_seconds() if hasattr(got, "total_seconds") else got * 86400
                    assert round(secs) == v
                    assert cell.number_format == "[h]:mm:ss"
                elif c["unit"] == "percent":
                    assert abs(cell.value - v / 100) < 1e-9 and "%" in cell.number_format
                else:
                    assert cell.value == v and isinstance(cell.value, int)


def test_xlsx_never_formulas(one, tmp_path):
    res = run(one.con(), "cdr.queues", Params(date_from=one.d_from, date_to=one.d_to))
    res.tables[0].rows[0]["label"] = "=HYPERLINK(\"http://x\")"
    p = tmp_path / "f.xlsx"
    export.to_xlsx(res, p)
    ws = openpyxl.load_workbook(p).worksheets[0]
    assert ws.cell(4, 1).data_type == "s"


def test_csv(one):
    con = one.con()
    res = run(con, "cdr.queues", Params(date_from=one.d_from, date_to=one.d_to))
    rows = list(csv.DictReader(io.StringIO(export.to_csv(res))))
    assert "table" not in rows[0] and rows[-1]["level"] == "total"
    assert int(rows[-1]["total.n"]) == res.tables[0].totals["total.n"]
    multi = run(con, "cdr.queues_by_hour", Params(date_from=one.d_from, date_to=one.d_to))
    rows = list(csv.DictReader(io.StringIO(export.to_csv(multi))))
    assert rows[0]["table"] and len(rows) == 25 * len(multi.tables)


def test_formatter():
    assert fmt.duration(11 * 86400 + 22 * 3600 + 42 * 60 + 8) == "11gg 22:42:08"
    assert fmt.duration(49 * 3600 + 12 * 60 + 59, days=False) == "49:12:59"
    assert fmt.cell(0, "duration", "avg") == "00:00:00"
    assert fmt.cell(0, "duration", "sum") == "" and fmt.cell(0, "count") == ""
    assert fmt.cell(None, "duration", "avg") == ""
    assert fmt.count(76258, lang="it") == "76.258"
    assert fmt.percent(22.4) == "22.4%" and fmt.percent(100.0) == "100%"
    assert fmt.percent(71.56, style="fixed", lang="it") == "71,56 %"
    assert [fmt.weekday_label(i, "it") for i in range(7)] == ["dom", "lun", "mar", "mer", "gio",
                                                               "ven", "sab"]
    # floored averages (spec §0.4): 02:01:18 / 91 -> 00:01:19
    from pbxlens.reports.catalog import Metric
    from pbxlens.reports.engine import evaluate
    m = Metric("a", "", "", "duration", "avg", "t")
    assert evaluate({"X": {"n": 91, "t": 7278}}, m) == 79
    assert evaluate({"X": {"n": 0, "t": 0}}, m) is None


def _cli(*args, db=None):
    """The CLI in this process (tests/clirun.py)."""
    if db:
        args = (*args, "--db", str(db))
    return pbxlens(*args, cwd=ROOT)


def test_cli(one, tmp_path):
    # in a real process (the file's one): `main()` itself, as the console script calls it
    r = subprocess.run([sys.executable, "-c", "from pbxlens.cli import main; main()", "reports"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and all(i in r.stdout for i in IDS)
    for args in (("report", "nope"), ("report", "cdr.queues", "--filter", "foo=1"),
                 ("report", "cdr.queues", "--from", "2026-02-30"),
                 ("report", "cdr.queues", "--to", "yesterday"),
                 ("report", "cdr.queues", "--from", "2026-05-05", "--to", "2026-05-01"),
                 ("report", "cdr.queues", "--filter", "empty_queue=maybe"),
                 ("report", "cdr.dashboard", "--filter", "queue=700")):
        res = _cli(*args, db=one.path)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    out = tmp_path / "q.json"
    res = _cli("report", "cdr.queues", "--from", one.d_from.isoformat(), "--to",
               one.d_to.isoformat(), "--format", "json", "--out", str(out),
               "--filter", "queue=700,701", "--filter", "status=OK", db=one.path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text())
    assert {r["key"] for r in doc["tables"][0]["rows"]} <= {"700", "701"}
    assert doc["filters"]["queue"] == ["700", "701"]
    res = _cli("report", "cdr.queues", "--format", "xlsx", "--out", str(tmp_path / "x.xlsx"),
               db=one.path)
    assert res.returncode == 0 and (tmp_path / "x.xlsx").exists()


def test_default_range():
    p = Params(today=date(2026, 3, 31))
    assert p.resolved() == (date(2026, 3, 1), date(2026, 3, 31))
    assert Params(today=date(2026, 5, 15)).resolved() == (date(2026, 4, 16), date(2026, 5, 15))


def test_docs_up_to_date():
    assert (ROOT / "docs" / "reports.md").read_text(encoding="utf-8") == render(), \
        "run: python -m pbxlens.reports.docs > docs/reports.md"


def test_catalog_and_sql_transpile(one):
    from pbxlens.reports import operator, queue
    defs = {d.id: d for d in all_reports()}
    assert set(IDS) <= set(defs)
    p = Params(date_from=one.d_from, date_to=one.d_to, filters={"exit_cause": ["NCC"]})
    for sql, _args in (queue.query(queue.BY_QUEUE, p, one.d_from, one.d_to),
                       queue.query(queue.BY_QUEUE_DATE, p, one.d_from, one.d_to),
                       operator.queue_query(p, one.d_from, one.d_to),
                       operator.query(operator.BY_OPERATOR, p, one.d_from, one.d_to)):
        for dialect in ("spark", "clickhouse", "postgres"):
            assert sqlglot.transpile(sql, read="duckdb", write=dialect)
