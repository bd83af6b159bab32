"""The CLI end to end: generate, ingest --json twice, exit codes, the lock (held by another
process), an ingest killed part-way. The commands run in this process (tests/clirun.py), the
killed ingest in real `python -m pbxlens` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import duckdb

from tests.clirun import PBX, pbxlens


def run(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    r = pbxlens(*args)
    if check:
        r.check_returncode()
    return r


def test_generate_then_ingest_twice(tmp_path):
    out, db = tmp_path / "gen", tmp_path / "x.duckdb"
    g = run("generate", "--out", str(out), "--days", "2", "--calls-per-day", "200", "--seed",
            "7", "--start", "2026-06-01", "--formats", "csv-detailed,json")
    assert g.returncode == 0, g.stderr
    assert sorted(p.name for p in out.glob("truth_*.tsv")) == [
        "truth_callbacks.tsv", "truth_missed.tsv", "truth_missed_calls.tsv",
        "truth_queue_days.tsv"]  # beside the exports; folder ingest skips them
    first = run("ingest", str(out), "--db", str(db), "--json")
    assert first.returncode == 0, first.stderr
    files = json.loads(first.stdout)["files"]
    assert {f["format"] for f in files} == {"kalliope_cdr_csv_detailed", "kalliope_cdr_json",
                                            "directory_json"}
    for f in files:
        assert set(f) >= {"path", "format", "rows_read", "rows_loaded", "rows_duplicate",
                          "rows_quarantined"}
    second = json.loads(run("ingest", str(out), "--db", str(db), "--json").stdout)["files"]
    assert sum(f["rows_loaded"] for f in second) == 0
    status = run("status", "--db", str(db))
    assert status.returncode == 0 and "calls" in status.stdout


def test_unreadable_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    r = run("ingest", str(bad), "--db", str(tmp_path / "x.duckdb"))
    assert r.returncode == 2
    assert "empty" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_path_and_bad_options_exit_2(tmp_path):
    r = run("ingest", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "x.duckdb"))
    assert r.returncode == 2 and "no such file" in r.stderr
    r = run("generate", "--out", str(tmp_path), "--start", "2026-13-01")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr
    r = run("generate", "--out", str(tmp_path), "--scenario", "nowhere")
    assert r.returncode == 2 and "small-office" in r.stderr


def test_held_store_gives_a_one_line_error(tmp_path):
    db = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb,time; c=duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        r = run("status", "--db", str(db))
        assert r.returncode == 3
        assert "held by process" in r.stderr and "Traceback" not in r.stderr
    finally:
        holder.kill()
        holder.wait()


def test_kill_during_ingest_then_rerun_completes_without_duplicates(tmp_path):
    from pbxlens.store import analytics as store

    out, db = tmp_path / "big", tmp_path / "k.duckdb"
    run("generate", "--out", str(out), "--days", "20", "--calls-per-day", "2500", "--seed", "3",
        "--start", "2026-02-01", "--formats", "csv-detailed", check=True)
    killed = 0
    for delay in (1.0, 2.5, 4.0, 6.0):
        # A run killed part-way: whatever it committed is whole batches.
        proc = subprocess.Popen([*PBX, "ingest", str(out), "--db", str(db), "--json"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        con = store.connect(db)  # opens a killed store (and finishes migrating it if needed)
        formats = {f for (f,) in con.execute("SELECT format FROM ingest_batches").fetchall()}
        calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
        con.close()
        if "kalliope_cdr_csv_detailed" not in formats:
            assert calls == 0  # the CDR batch was rolled back whole
    assert killed >= 1
    r = run("ingest", str(out), "--db", str(db), "--json")
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(db))
    n, distinct = con.execute(
        "SELECT count(*), count(DISTINCT (tenant, unique_id, leg_branch)) FROM calls").fetchone()
    legs, legs_distinct = con.execute(
        "SELECT count(*), count(DISTINCT (unique_id, leg_branch, seq)) FROM call_legs").fetchone()
    rows_in_file = sum(1 for _ in (out / "cdr_detailed.csv").open()) - 1
    assert n == distinct > 0 and legs == legs_distinct
    assert legs + con.execute("SELECT count(*) FROM calls WHERE path_len = 0").fetchone()[0] == rows_in_file
    assert con.execute("SELECT count(*) FROM ingest_batches WHERE format = 'kalliope_cdr_csv_detailed'"
                       ).fetchone()[0] == 1


def test_generate_a_scenario(tmp_path):
    g = run("generate", "--out", str(tmp_path), "--days", "1", "--scenario", "night-weekend",
            "--start", "2026-06-06", "--formats", "cc-csv,events")
    assert g.returncode == 0, g.stderr
    assert (tmp_path / "cc_cdr.csv").stat().st_size > 0 and (tmp_path / "events.jsonl").exists()
    head = (tmp_path / "truth_queue_days.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("tenant\tbasis\tday\tqueue_id")
