"""Derived facts (queue_visits, agent_legs): idempotent, replaced with their call, and the
incremental refresh of each batch equals a full rebuild."""

from __future__ import annotations

from pbxlens.ingest import derive
from pbxlens.store import analytics as db
from tests.ingest.helpers import load
from tests.ingest.test_loader import _split

SNAP = {
    "call_facts": "SELECT * FROM call_facts ORDER BY tenant, unique_id, leg_branch",
    "queue_visits": "SELECT * FROM queue_visits ORDER BY tenant, unique_id, leg_branch, seq",
    "agent_legs": "SELECT * FROM agent_legs ORDER BY tenant, unique_id, leg_branch, kind, seq",
}

HEADER = ("unique_id,status,start_datetime,end_datetime,duration,bill_secs,source_type,"
          "destination_type,detail_destination_type,detail_destination_id,"
          "detail_source_number,detail_enter_datetime,detail_answer_datetime,"
          "detail_exit_datetime,detail_exit_cause,detail_answered_by")


def derived(con) -> dict[str, list]:
    return {t: con.execute(sql).fetchall() for t, sql in SNAP.items()}


def rebuilt(con) -> dict[str, list]:
    con.execute("BEGIN")
    derive.rebuild(con)
    out = derived(con)
    con.execute("ROLLBACK")
    return out


def test_refresh_twice_and_reingest_change_nothing(sim_all, store, tmp_path):
    r = load(store, sim_all / "cdr_detailed.csv")
    first = derived(store)
    assert first["call_facts"] and first["queue_visits"] and first["agent_legs"]
    derive.refresh(store, r.batch_id)
    assert derived(store) == first
    # the same export again under another file name/bytes: every call is a duplicate
    again = tmp_path / "again.csv"
    again.write_text((sim_all / "cdr_detailed.csv").read_text(encoding="utf-8") + "\n")
    load(store, again)
    assert derived(store) == first
    assert rebuilt(store) == first


def test_overlapping_exports_refresh_equals_rebuild(sim_all, store, tmp_path):
    a, b, _total, overlap = _split(sim_all, tmp_path)
    load(store, a, b)
    assert overlap > 0
    inc = derived(store)
    assert inc == rebuilt(store)
    keys = store.execute("SELECT count(*), count(DISTINCT (unique_id, leg_branch, seq)) "
                         "FROM queue_visits").fetchone()
    assert keys[0] == keys[1] > 0


def test_replaced_call_replaces_its_derived_rows(store, tmp_path):
    old = tmp_path / "old.csv"
    old.write_text(HEADER + "\n"
                   "5.1,NOANSWER,2024-01-02 10:00:00,2024-01-02 10:00:30,30,0,ibl,queue,queue,"
                   "700,333,2024-01-02 10:00:00,,2024-01-02 10:00:30,NOANSWER,\n"
                   "5.1,NOANSWER,2024-01-02 10:00:00,2024-01-02 10:00:30,30,0,ibl,queue,"
                   "local_exten,201,333,2024-01-02 10:00:05,,2024-01-02 10:00:30,NOANSWER,\n")
    new = tmp_path / "new.csv"
    new.write_text(HEADER + "\n"
                   "5.1,OK,2024-01-02 10:00:00,2024-01-02 10:01:30,90,60,ibl,queue,queue,700,"
                   "333,2024-01-02 10:00:00,2024-01-02 10:00:20,2024-01-02 10:01:30,NCC,201\n"
                   "5.1,OK,2024-01-02 10:00:00,2024-01-02 10:01:30,90,60,ibl,queue,local_exten,"
                   "201,333,2024-01-02 10:00:05,2024-01-02 10:00:20,2024-01-02 10:01:30,NCC,"
                   "201\n")
    load(store, old)
    assert store.execute("SELECT block, tot_s, wait_s FROM queue_visits").fetchall() == [
        ("NOANSWER", 30, 30)]
    assert store.execute("SELECT kind, block, qkey, ring_s FROM agent_legs").fetchall() == [
        ("recv", "TIMEOUT", "700", 25)]
    load(store, new)
    assert store.execute(
        "SELECT block, answered, tot_s, talk_s, wait_s, asa_s, account FROM queue_visits"
    ).fetchall() == [("NCC", True, 90, 70, 0, 20, "201")]
    assert store.execute(
        "SELECT kind, block, qkey, q_seq, ring_s, resp_s, talk_s, worked_s, account "
        "FROM agent_legs").fetchall() == [("recv", "NCC", "700", 1, 15, 20, 70, 70, "201")]
    assert store.execute("SELECT status, dur_s, wait_s, talk_s FROM call_facts").fetchall() == [
        ("OK", 90, 90, 60)]
    assert derived(store) == rebuilt(store)


def test_migration_backfills_with_the_derive_statements():
    sql = next(s for v, _n, s in db.migrations() if v == 3)
    for stmt in derive.backfill_sql():
        assert stmt.rstrip() in sql, "regenerate 0003_derived.sql from derive.backfill_sql()"


def test_answered_blocks_match_the_reports():
    from pbxlens.reports.common import ANSWERED_BLOCKS
    assert ", ".join(f"'{b}'" for b in ANSWERED_BLOCKS) == derive._ANS


def test_a_big_batch_derived_in_slices_equals_one_pass(sim_all, store, monkeypatch):
    r = load(store, sim_all / "cdr_detailed.csv")
    whole = derived(store)
    monkeypatch.setattr(derive, "CALLS_PER_SLICE", 37)  # many slices of whole calls
    derive.refresh(store, r.batch_id)
    assert derived(store) == whole
