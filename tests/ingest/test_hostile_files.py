"""Hostile files: each gets one clear per-file error or its bad rows quarantined with the
reason; the process never dies and the good files of the same command still load."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.simulate import generate
from tests.ingest.hostile import (
    HEADER,
    cdr_row,
    good_csv,
    xlsx,
    xlsx_dimension_bomb,
)

REPO = Path(__file__).resolve().parents[2]


def _ingest(store, *paths):
    results = ingest_paths(store, list(paths))
    return results, {r[0] for r in store.execute("SELECT unique_id FROM calls").fetchall()}


def _limited_ingest(tmp_path, *paths, gib: int = 3):
    """`pbxlens ingest` in a child limited to `gib` GiB of address space: a reader that
    allocates a huge rectangle aborts the child, not the test run."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (gib << 30, gib << 30))

    env = {**os.environ, "PBXLENS_CONFIG": str(tmp_path / "none.toml")}
    return subprocess.run(
        [sys.executable, "-m", "pbxlens", "ingest", "--db", str(tmp_path / "cli.duckdb"),
         *map(str, paths)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, preexec_fn=limit)


# ------------------------------------------------------------------------------ workbooks
def test_dimension_bomb_is_refused_before_allocating_and_the_next_file_loads(tmp_path):
    bomb = xlsx_dimension_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 4096
    good = good_csv(tmp_path / "good.csv")
    run = _limited_ingest(tmp_path, bomb, good)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "1048576 rows x 16384 columns" in run.stderr
    assert "ingest_max_sheet_cells" in run.stderr
    import duckdb

    con = duckdb.connect(str(tmp_path / "cli.duckdb"), read_only=True)
    assert con.execute("SELECT unique_id FROM calls").fetchall() == [("1700000000.900",)]


def test_unnumbered_cells_cannot_hide_the_extent(store, tmp_path):
    """Cells without a reference follow the previous one: 20 000 of them in row 1 048 576
    span as many columns as numbered ones would."""
    wide = [(None, "x")] * 20_000
    bomb = xlsx(tmp_path / "wide.xlsx", [(1, [("A1", "unique_id")]), (1048576, wide)])
    results, calls = _ingest(store, bomb, good_csv(tmp_path / "good.csv"))
    assert "1048576 rows x 20000 columns" in results[0].error
    assert calls == {"1700000000.900"}


def test_zip_bomb_is_refused_from_the_declared_sizes(store, tmp_path):
    bomb = xlsx(tmp_path / "zip.xlsx", [(1, [("A1", "unique_id")])], pad_bytes=60 << 20)
    assert bomb.stat().st_size < 1 << 20
    results, calls = _ingest(store, bomb, good_csv(tmp_path / "good.csv"))
    assert "refused as a zip bomb" in results[0].error
    assert calls == {"1700000000.900"}


def test_a_huge_declared_dimension_is_refused(store, tmp_path):
    """openpyxl's reader pads every row to the declared <dimension>: a lying one is refused
    like a real extent (calamine alone would not care)."""
    rows = [(1, [("A1", "unique_id"), ("B1", "status"), ("C1", "start_datetime")]),
            (2, [("A2", "1700000000.1"), ("B2", "OK"), ("C2", "2023-11-14 23:13:20")])]
    book = xlsx(tmp_path / "dim.xlsx", rows, dimension="A1:XFD1048576")
    results, calls = _ingest(store, book)
    assert "spans 1048576 rows x 16384 columns" in results[0].error
    assert not calls
    small = xlsx(tmp_path / "dim_ok.xlsx", rows, dimension="A1:C2")
    results, calls = _ingest(store, small)
    assert results[0].error is None and calls == {"1700000000.1"}


def test_billing_and_ticket_imports_check_workbooks_too(tmp_path):
    from pbxlens.billing.files import BillingFileError, read_rows
    from pbxlens.tickets import TicketError
    from pbxlens.tickets.files import read_table

    bomb = xlsx(tmp_path / "tariffs.xlsx", [(1, [("A1", "description")])],
                dimension="A1:XFD1048576")
    with pytest.raises(BillingFileError, match="over the limit of 50000000 cells"):
        read_rows(bomb)
    with pytest.raises(TicketError, match=r"tariffs\.xlsx: sheet sheet1\.xml spans 1048576 rows"):
        read_table(bomb.name, bomb.read_bytes())


def test_inflated_size_over_the_setting_is_refused(store, tmp_path, monkeypatch):
    monkeypatch.setenv("PBXLENS_INGEST_MAX_UNZIPPED_BYTES", "1000")
    from pbxlens.config import get_settings

    get_settings.cache_clear()
    try:
        book = xlsx(tmp_path / "big.xlsx", [(1, [("A1", "unique_id")])])
        results, _ = _ingest(store, book)
    finally:
        get_settings.cache_clear()
    assert "over the limit of 1000 (setting ingest_max_unzipped_bytes)" in results[0].error


# ------------------------------------------------------------------ dates at both ends of time
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1989-12-31", "2101-01-01"])
def test_dates_outside_the_supported_years_go_to_quarantine(day, store, tmp_path):
    bad = tmp_path / "far.csv"
    bad.write_text("\n".join([HEADER, cdr_row(1), cdr_row(2, f"{day} 10:00:00", f"{day} 10:00:40"),
                              cdr_row(3)]) + "\n", encoding="utf-8")
    results, calls = _ingest(store, bad, good_csv(tmp_path / "good.csv"))
    r = results[0]
    assert r.error is None
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    line, reason = store.execute("SELECT line, reason FROM quarantine").fetchone()
    assert line == 3
    assert reason == (f'start_datetime outside the supported years 1990-2100 "{day} 10:00:00";'
                      f' end_datetime outside the supported years 1990-2100 "{day} 10:00:40"')
    assert calls == {"1700000000.1", "1700000000.3", "1700000000.900"}


def test_edge_years_still_load(store, tmp_path):
    ok = tmp_path / "edge.csv"
    ok.write_text("\n".join([HEADER, cdr_row(1, "1990-01-02 10:00:00", "1990-01-02 10:00:40"),
                             cdr_row(2, "2100-12-30 10:00:00", "2100-12-30 10:00:40")]) + "\n")
    results, calls = _ingest(store, ok)
    assert results[0].rows_loaded == 2 and results[0].rows_quarantined == 0
    assert calls == {"1700000000.1", "1700000000.2"}


@pytest.fixture(scope="module")
def cc_csv(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cc_hostile")
    generate(out, days=1, calls_per_day=5, seed=5, start=date(2026, 5, 11), formats=["cc-csv"])
    return out / "cc_cdr.csv"


def test_call_center_rows_far_in_time_go_to_quarantine(cc_csv, store, tmp_path):
    lines = cc_csv.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("2026-05-11", "9999-12-31")
    bad = tmp_path / "cc_far.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = ingest_paths(store, [bad, good_csv(tmp_path / "good.csv")])
    assert results[0].error is None and results[0].rows_quarantined == 1
    reason = store.execute("SELECT reason FROM quarantine").fetchone()[0]
    assert "enter_datetime outside the supported years 1990-2100" in reason
    assert results[1].rows_loaded == 1


def test_events_far_in_time_go_to_quarantine(store, tmp_path):
    ev = tmp_path / "events.jsonl"
    rows = [{"event_name": "pbx.queuemember.pause", "event_timestamp": ts, "event_id": str(i),
             "params": {"queue_id": "1", "member": "SIP/201"}}
            for i, ts in enumerate(["2026-05-11T10:00:00Z", "9999-12-31T10:00:00Z",
                                    "253402300799", "0001-01-01T00:00:00"])]
    ev.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    results = ingest_paths(store, [ev, good_csv(tmp_path / "good.csv")])
    reasons = [r[0] for r in store.execute("SELECT reason FROM quarantine ORDER BY line").fetchall()]
    assert len(reasons) == 3, (results[0], reasons)
    assert all("outside the supported years 1990-2100" in r for r in reasons)
    assert results[1].rows_loaded == 1


# ------------------------------------------------------------------------------ huge lines
def test_a_50_mb_file_without_a_line_break(store, tmp_path):
    bad = tmp_path / "oneline.csv"
    bad.write_bytes(b"unique_id," + b"x" * (50 << 20))
    results, calls = _ingest(store, bad, good_csv(tmp_path / "good.csv"))
    assert results[0].error == (f"{bad}: line 1 is longer than 1048576 characters"
                                " (no line break): not a CDR export")
    assert calls == {"1700000000.900"}


def test_a_50_mb_line_deep_in_a_cdr_export(store, tmp_path):
    bad = tmp_path / "deep.csv"
    body = "\n".join([HEADER, *(cdr_row(n) for n in range(1, 20))]) + "\n"
    bad.write_bytes(body.encode() + b"1700000000.99," + b"x" * (50 << 20))
    results, calls = _ingest(store, bad, good_csv(tmp_path / "good.csv"))
    assert results[0].error == (f"{bad}: a line is longer than the limit of 1048576 bytes"
                                " (a missing line break?)")
    assert calls == {"1700000000.900"}  # the failed file left nothing behind
    assert store.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


def test_a_huge_field_in_a_call_center_export(cc_csv, store, tmp_path):
    """Python's CSV reader refuses a field over 128 KiB with its own exception type: the
    per-file boundary turns any exception into that file's error."""
    lines = cc_csv.read_text(encoding="utf-8").splitlines()
    lines.insert(3, lines[2].replace(",,", "," + "y" * 300_000 + ",", 1))
    bad = tmp_path / "cc_wide.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results, calls = _ingest(store, bad, good_csv(tmp_path / "good.csv"))
    assert results[0].error.startswith(f"{bad}: cannot be read (Error: field larger than")
    assert store.execute("SELECT count(*) FROM queue_calls").fetchone()[0] == 0
    assert calls == {"1700000000.900"}


# ------------------------------------------------------------------ quarantine tells the truth
_TOO_WIDE = ("1700000000.5,OK,2023-11-14 23:13:20,2023-11-14 23:14:00,00:00:40,0,Niccolò,202,"
             ",,x,y")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_quarantine_keeps_the_exact_line_and_one_reason(encoding, store, tmp_path):
    rows = [HEADER, cdr_row(1), cdr_row(2), _TOO_WIDE, cdr_row(3)]
    bad = tmp_path / f"wide_{encoding}.csv"
    bad.write_bytes(("\r\n".join(rows) + "\r\n").encode(encoding))
    results, _ = _ingest(store, bad)
    assert (results[0].rows_loaded, results[0].rows_quarantined) == (3, 1)
    assert store.execute("SELECT line, raw, reason FROM quarantine").fetchall() == [
        (4, _TOO_WIDE, "too many columns: 12 values where the header has 10")]


def test_too_few_columns_in_words(store, tmp_path):
    bad = tmp_path / "short.csv"
    bad.write_text("\n".join([HEADER, cdr_row(1), "9.2,OK,2023-11-14 23:13:20"]) + "\n")
    _ingest(store, bad)
    assert store.execute("SELECT raw, reason FROM quarantine").fetchall() == [
        ("9.2,OK,2023-11-14 23:13:20", "too few columns: 3 values where the header has 10")]


def test_a_quoted_line_break_stays_in_the_quarantined_record(store, tmp_path):
    wide = cdr_row(5).replace(",201,", ',"two\nlines",', 1) + ",x"
    bad = tmp_path / "ml.csv"
    bad.write_text("\n".join([HEADER, cdr_row(1), wide, cdr_row(3)]) + "\n")
    _ingest(store, bad)
    assert store.execute("SELECT raw FROM quarantine").fetchall() == [(wide,)]


def test_header_and_rows_with_other_delimiters_is_one_file_error(store, tmp_path):
    bad = tmp_path / "mixed_delims.csv"
    rows = [cdr_row(n).replace(",", ";") for n in range(1, 50)]
    bad.write_text("\n".join([HEADER, *rows]) + "\n")
    results, calls = _ingest(store, bad, good_csv(tmp_path / "good.csv"))
    assert results[0].error == (f"{bad}: no row has the header's 10 columns; the rows seem"
                                " separated by ';', the header by ',': the file was not loaded")
    assert store.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert calls == {"1700000000.900"}


@pytest.mark.parametrize("at", [100, 9000, 3 << 20])
def test_a_nul_byte_anywhere_refuses_the_file(at, store, tmp_path):
    body = ("\n".join([HEADER, *(cdr_row(n) for n in range(1, 40_000))]) + "\n").encode()
    bad = tmp_path / "nul.csv"
    bad.write_bytes(body[:at] + b"\x00" + body[at:])
    results, calls = _ingest(store, bad, good_csv(tmp_path / "good.csv"))
    assert "not a text file" in results[0].error
    assert calls == {"1700000000.900"}


def test_a_feedback_requests_file_is_named_not_skipped(store, tmp_path):
    out = tmp_path / "sim"
    generate(out, days=1, calls_per_day=20, seed=3, start=date(2026, 5, 11),
             formats=["csv", "feedback"])
    fb = out / "feedback_requests.ndjson"
    results, _ = _ingest(store, fb, good_csv(tmp_path / "good.csv"))
    assert results[0].error == (
        f"{fb}: not a CDR export: its records have no start_datetime or status (keys: unique_id,"
        " body); it holds request bodies (feedback or dynamic routing), which come in through"
        " their webhook")
    assert store.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert results[1].rows_loaded == 1
