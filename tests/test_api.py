"""The Python API (`pbxlens.open`): every report gives the numbers of the CLI's JSON, as Arrow,
pandas and polars; the privacy mask and the tenant of a user; the calls as a polars frame; the
worked example of docs/api.md runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

import pbxlens
from pbxlens import PbxlensError
from pbxlens.cli import app
from tests.reports import json_contract as jc

ROOT = Path(__file__).resolve().parents[1]
RANGE = ("--from", jc.START.isoformat(), "--to", jc.END.isoformat())


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return jc.build_store(tmp_path_factory.mktemp("api"))


def _cli_json(path: Path, report_id: str) -> dict:
    res = CliRunner().invoke(app, ["report", report_id, "--db", str(path), "--format", "json",
                                   *RANGE])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def _same(got, want) -> bool:
    """A frame's value against the JSON's (money is a string of the exact Decimal there)."""
    if isinstance(got, Decimal):
        return want is not None and got == Decimal(want)
    return got == want


def test_every_report_gives_the_cli_json_numbers(store):
    lens = pbxlens.open(store)
    assert [r.id for r in lens.reports()] == [r.id for r in pbxlens.reports.all_reports()]
    for defn in lens.reports():
        want = _cli_json(store, defn.id)
        r = lens.report(defn.id, start=jc.START, end=jc.END)
        assert r.tables == [t["key"] for t in want["tables"]], defn.id
        for i, t in enumerate(want["tables"]):
            rows = r.to_arrow(i).to_pylist()
            assert len(rows) == len(t["rows"]), (defn.id, i)
            for got, exp in zip(rows, t["rows"], strict=True):
                for k, v in exp.items():
                    assert _same(got[k], v), (defn.id, i, k)
            assert all(_same(r.totals(i)[k], v) for k, v in t["totals"].items()), defn.id
        stacked = r.to_arrow()
        assert stacked.num_rows == sum(len(t["rows"]) for t in want["tables"]), defn.id
        assert len(r.to_pandas()) == len(r.to_polars()) == stacked.num_rows, defn.id
    lens.close()


def test_frames_are_typed(store):
    with pbxlens.open(store) as lens:
        q = lens.report("cdr.queues", start="2026-05-04", end="2026-05-05")
        df = q.to_polars("queues")
        assert df.schema["total.n"] == pl.Int64 and df.schema["kpi.sl"] == pl.Float64
        assert df.schema["answered.avg_talk"] == pl.Int64  # seconds
        cost = lens.report("billing.consumption", start="2026-05-04", end="2026-05-05")
        assert isinstance(cost.to_polars().schema["total.cost"], pl.Decimal)
        assert cost.to_pandas()["total.cost"].sum() == cost.totals()["total.cost"]
        by_queue = lens.report("cdr.queues_by_hour", start="2026-05-04", end="2026-05-05",
                               filters={"queue": "700"})
        assert by_queue.tables == ["700"] and by_queue.to_pandas()["table"].eq("700").all()


def test_xlsx_is_the_export_workbook(store, tmp_path):
    with pbxlens.open(store) as lens:
        q = lens.report("cdr.queues", start="2026-05-04", end="2026-05-05", lang="it")
        q.to_xlsx(tmp_path / "q.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "q.xlsx").worksheets[0]
    assert ws.cell(3, 2).value == q.result.tables[0].columns[0].label


def test_privacy_and_user_scope(store):
    full = pbxlens.open(store)
    masked = pbxlens.open(store, privacy=False)
    calls = full.calls(start="2026-05-04", end="2026-05-05", lazy=False)
    hidden = masked.calls(start="2026-05-04", end="2026-05-05").collect()
    assert len(calls) == len(hidden) == full.con.execute(
        "SELECT count(*) FROM call_facts WHERE day BETWEEN '2026-05-04' AND '2026-05-05'"
    ).fetchone()[0]
    long_numbers = calls.filter(pl.col("caller").str.count_matches(r"\d") >= 7)
    assert len(long_numbers) > 0
    assert hidden.filter(pl.col("caller").str.ends_with("xxx")).height == long_numbers.height
    # the web app's mask of a report, for the same user
    from pbxlens.api import mask_result

    r = full.report("missed.history", start="2026-05-04", end="2026-05-05",
                    filters={"number": "3312345678"})
    assert masked.report("missed.history", start="2026-05-04", end="2026-05-05",
                         filters={"number": "3312345678"}).to_json() == \
        pbxlens.reports.export.to_json(mask_result(r.result, False))
    sup = SimpleNamespace(role="supervisor", privacy=False, tenant="default", disabled=False)
    as_sup = pbxlens.open(store, privacy=sup)
    assert not any(r.id.startswith("billing.") for r in as_sup.reports())
    with pytest.raises(PbxlensError, match="may not see"):
        as_sup.report("billing.dashboard", start="2026-05-04", end="2026-05-05")
    other = SimpleNamespace(role="supervisor", privacy=True, tenant="nobody", disabled=False)
    empty = pbxlens.open(store, privacy=other).report("cdr.queues", start="2026-05-04",
                                                      end="2026-05-05")
    assert not empty.totals().get("total.n")
    for lens in (full, masked, as_sup):
        lens.close()


def test_the_guard_and_bad_input(store):
    with pbxlens.open(store) as lens:
        with pytest.raises(PbxlensError, match="longer than 25 months"):
            lens.report("cdr.dashboard", start="0001-01-01", end="9999-12-31")
        with pytest.raises(PbxlensError, match="unknown report"):
            lens.report("nope")
        with pytest.raises(PbxlensError, match="not a date"):
            lens.report("cdr.queues", start="yesterday")
    with pytest.raises(PbxlensError, match="no store"):
        pbxlens.open(store.parent / "missing.duckdb")


def test_the_worked_example_runs(store, tmp_path):
    example = ROOT / "docs" / "examples" / "api_tour.py"
    shutil.copy(store, tmp_path / "store.duckdb")
    out = subprocess.run([sys.executable, str(example), str(tmp_path / "store.duckdb")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "calls from 2026-05-04 to 2026-05-05; 55 reports" in out.stdout
    assert (tmp_path / "queues.xlsx").exists()
    assert "api_tour.py" in (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
