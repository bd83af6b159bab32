"""Idempotency, overlapping exports, newer exports, and instants around DST and midnight."""

from __future__ import annotations

import pytest

from tests.ingest.helpers import load, snapshot


def _split(sim_all, tmp_path):
    """Two overlapping exports of one detailed CSV: first 60 % and last 60 % of the calls."""
    lines = (sim_all / "cdr_detailed.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    uids = list(dict.fromkeys(line.split(",", 1)[0] for line in body))
    cut_a, cut_b = set(uids[: int(len(uids) * 0.6)]), set(uids[int(len(uids) * 0.4):])
    a, b = tmp_path / "export_a.csv", tmp_path / "export_b.csv"
    a.write_text("\n".join([header] + [x for x in body if x.split(",", 1)[0] in cut_a]) + "\n")
    b.write_text("\n".join([header] + [x for x in body if x.split(",", 1)[0] in cut_b]) + "\n")
    return a, b, len(uids), len(cut_a & cut_b)


def test_loading_twice_changes_nothing(sim_all, store):
    first = load(store, sim_all / "cdr_detailed.csv")
    before = snapshot(store)
    second = load(store, sim_all / "cdr_detailed.csv")
    assert first.rows_loaded == first.rows_read > 0
    assert second.rows_loaded == 0 and second.skipped
    assert snapshot(store) == before
    assert store.execute("SELECT count(*) FROM ingest_batches").fetchone()[0] == 1


def test_overlapping_exports_add_only_the_new_calls(sim_all, store, tmp_path):
    a, b, total, overlap = _split(sim_all, tmp_path)
    ra, rb = load(store, a, b)
    assert rb.calls_loaded == total - ra.calls_loaded
    assert rb.rows_duplicate > 0 and overlap > 0
    n, distinct = store.execute(
        "SELECT count(*), count(DISTINCT (tenant, unique_id, leg_branch)) FROM calls").fetchone()
    assert n == distinct == total
    legs = store.execute("SELECT count(*), count(DISTINCT (unique_id, leg_branch, seq)) FROM call_legs").fetchone()
    assert legs[0] == legs[1]


def test_newer_export_replaces_the_call_and_its_path(store, tmp_path):
    header = ("unique_id,status,start_datetime,end_datetime,duration,bill_secs,source_type,"
              "destination_type,detail_destination_type,detail_destination_id,"
              "detail_enter_datetime,detail_exit_datetime,detail_exit_cause")
    old = tmp_path / "old.csv"
    old.write_text(header + "\n"
                   "5.1,NOANSWER,2024-01-02 10:00:00,2024-01-02 10:00:30,30,0,ibl,queue,queue,700,"
                   "2024-01-02 10:00:00,2024-01-02 10:00:30,NOANSWER\n")
    new = tmp_path / "new.csv"
    new.write_text(header + "\n"
                   "5.1,OK,2024-01-02 10:00:00,2024-01-02 10:01:30,90,60,ibl,queue,queue,700,"
                   "2024-01-02 10:00:00,2024-01-02 10:00:30,NCC\n"
                   "5.1,OK,2024-01-02 10:00:00,2024-01-02 10:01:30,90,60,ibl,queue,local_exten,201,"
                   "2024-01-02 10:00:20,2024-01-02 10:01:30,NCC\n")
    load(store, old)
    r = load(store, new)
    assert r.calls_loaded == 1 and r.rows_loaded == 2
    assert store.execute("SELECT status, duration_s, path_len FROM calls").fetchall() == [("OK", 90, 2)]
    assert store.execute("SELECT seq, exit_cause FROM call_legs ORDER BY seq").fetchall() == [
        (1, "NCC"), (2, "NCC")]


def test_two_rows_with_one_unique_id_are_two_branches(store, tmp_path):
    """Click2call/callback from fw 4.17.3 writes one row per branch with the same unique_id."""
    p = tmp_path / "c2c.csv"
    p.write_text("unique_id,status,start_datetime,duration,source_type,destination_type,caller,called\n"
                 "7.7,OK,2024-01-02 10:00:00,30,local_exten,local_exten,*c2c,201\n"
                 "7.7,OK,2024-01-02 10:00:02,28,local_exten,obl,201,3331234567\n")
    r = load(store, p)
    assert r.calls_loaded == 2
    assert store.execute("SELECT leg_branch, called FROM calls ORDER BY 1").fetchall() == [
        (0, "201"), (1, "3331234567")]
    assert load(store, p).rows_loaded == 0


EDGE = ("unique_id,status,start_datetime,answer_datetime,end_datetime,duration,bill_secs,"
        "source_type,destination_type")


@pytest.mark.parametrize("row,start_utc,end_utc,local_day", [
    # across midnight: bucketed on the start day, duration from the CDR
    ("1767221940.1,OK,2025-12-31 23:59:00,2025-12-31 23:59:10,2026-01-01 00:01:00,00:02:00,110,ibl,queue",
     "2025-12-31 22:59:00", "2025-12-31 23:01:00", "2025-12-31"),
    # spring DST day: 01:59 -> 03:01 is 2 minutes of real time
    ("1774745940.2,OK,2026-03-29 01:59:00,,2026-03-29 03:01:00,00:02:00,0,ibl,queue",
     "2026-03-29 00:59:00", "2026-03-29 01:01:00", "2026-03-29"),
    # autumn fold, first 02:30 (CEST): the unique_id epoch says which one
    ("1792888200.3,OK,2026-10-25 02:30:00,,2026-10-25 02:31:00,00:01:00,0,ibl,queue",
     "2026-10-25 00:30:00", "2026-10-25 00:31:00", "2026-10-25"),
    # autumn fold, second 02:30 (CET)
    ("1792891800.4,OK,2026-10-25 02:30:00,,2026-10-25 02:31:00,00:01:00,0,ibl,queue",
     "2026-10-25 01:30:00", "2026-10-25 01:31:00", "2026-10-25"),
    # a call from the first 02:50 to 02:10 after the clocks went back: 20 minutes
    ("1792889400.5,OK,2026-10-25 02:50:00,,2026-10-25 02:10:00,00:20:00,0,ibl,queue",
     "2026-10-25 00:50:00", "2026-10-25 01:10:00", "2026-10-25"),
])
def test_instants_around_midnight_and_dst(row, start_utc, end_utc, local_day, store, tmp_path):
    p = tmp_path / "edge.csv"
    p.write_text(EDGE + "\n" + row + "\n")
    r = load(store, p)
    assert r.rows_quarantined == 0, store.execute("SELECT reason FROM quarantine").fetchall()
    got = store.execute(
        "SELECT strftime(timezone('UTC', start_ts), '%Y-%m-%d %H:%M:%S'),"
        " strftime(timezone('UTC', end_ts), '%Y-%m-%d %H:%M:%S'), start_local::DATE::TEXT,"
        " epoch(end_ts) - epoch(start_ts) = duration_s FROM calls").fetchone()
    assert got == (start_utc, end_utc, local_day, True)
