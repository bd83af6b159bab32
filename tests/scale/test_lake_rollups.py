"""Lake, rollups, backup/restore and retention on a simulated month of three tenants:
every catalog report gives the same JSON on the store, over the lake, and through rollups."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.reports import all_reports, engine
from pbxlens.reports.export import to_json
from pbxlens.reports.filters import Params
from pbxlens.scale import backup, lake, retention, rollups
from pbxlens.simulate.tenants import generate_tenants
from pbxlens.store import analytics as db

from .conftest import END, START, TENANTS

MONTH = Params(date_from=START, date_to=END)


def _json(con, rid: str, p: Params = MONTH) -> str:
    return to_json(engine.run(con, rid, p))


def test_simulated_month_has_several_tenants(sim):
    con = db.connect(sim.db, read_only=True)
    got = dict(con.execute("SELECT tenant, count(*) FROM calls GROUP BY ALL").fetchall())
    assert sorted(got) == TENANTS and min(got.values()) > 1000
    assert sorted(r[0] for r in con.execute("SELECT tenant FROM queues GROUP BY ALL").fetchall()
                  ) == TENANTS


@pytest.mark.parametrize("tenant", [None, "beta"])
def test_every_report_same_json_on_store_and_lake(sim, tenant):
    store, lk = db.connect(sim.db, read_only=True), lake.open_duckdb(sim.lake)
    p = Params(date_from=START, date_to=END, tenant=tenant)
    for defn in all_reports():
        with rollups.disabled():
            raw = _json(store, defn.id, p)
            assert _json(lk, defn.id, p) == raw, defn.id
        assert _json(lk, defn.id, p) == raw, f"{defn.id} (lake with rollups)"


def test_lake_layout_is_hive_by_tenant_and_month(sim):
    for t in TENANTS:
        assert (sim.lake / "calls" / f"tenant={t}" / "month=2026-05" / "data_0.parquet").exists()
        assert (sim.lake / "call_legs" / f"tenant={t}" / "month=2026-05").is_dir()
        assert (sim.lake / "queues" / f"tenant={t}").is_dir()
    n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{sim.lake}/calls/*/*/*.parquet', "
                   "hive_partitioning = true) WHERE tenant = 'acme'").fetchone()[0]
    con = db.connect(sim.db, read_only=True)
    assert n == con.execute("SELECT count(*) FROM calls WHERE tenant = 'acme'").fetchone()[0]


def test_every_report_rollup_path_equals_raw_path(sim):
    con = db.connect(sim.db, read_only=True)
    routed = []
    for defn in all_reports():
        with rollups.disabled():
            raw = _json(con, defn.id)
        assert _json(con, defn.id) == raw, defn.id
        for p in (Params(date_from=START, date_to=END, tenant="gamma"),
                  Params(date_from=date(2026, 5, 10), date_to=date(2026, 5, 10),
                         filters={"status": ["OK"]} if "status" in defn.filter_keys else {})):
            with rollups.disabled():
                raw = _json(con, defn.id, p)
            assert _json(con, defn.id, p) == raw, (defn.id, p)
        routed.append(defn.id)
    assert {"cdr.dashboard", "cdr.queues", "cdr.operators"} <= set(routed)


def test_rollups_answer_the_core_reports_and_refuse_what_they_cannot(sim):
    from pbxlens.reports import operator, queue

    con = db.connect(sim.db, read_only=True)
    for rid, mod, grouping in (("cdr.operators", operator, operator.BY_OPERATOR),
                               ("cdr.queues", queue, queue.BY_QUEUE),
                               ("cdr.operator_accounts", operator, operator.BY_OPERATOR_ACCOUNT)):
        sql, args = mod.query(grouping, MONTH, START, END)
        new, _ = rollups.route(con, sql, args)
        assert "_hourly" in new, rid
    sql, args = operator.query(operator.BY_OPERATOR, MONTH, START, END)
    assert "agent_legs_op_hourly" in rollups.route(con, sql, args)[0]  # the coarser one
    p = Params(date_from=START, date_to=END, filters={"status": ["OK"]})
    sql, args = operator.query(operator.BY_OPERATOR, p, START, END)
    assert "agent_legs_hourly" in rollups.route(con, sql, args)[0]  # status: the finer one
    # a caller filter reads a column the rollup does not keep: raw path, same numbers
    p = Params(date_from=START, date_to=END, filters={"source": ["3*"]})
    sql, args = operator.query(operator.BY_OPERATOR, p, START, END)
    assert rollups.route(con, sql, args)[0] == sql
    with rollups.disabled():
        raw = _json(con, "cdr.operators", p)
    assert _json(con, "cdr.operators", p) == raw
    # row listings and per-row sums are never rolled up
    for q in ("SELECT unique_id FROM agent_legs WHERE day = ?",
              "SELECT sum(CASE WHEN answered THEN 1 ELSE 0 END) FROM agent_legs WHERE day = ?",
              "SELECT avg(ring_s) FROM agent_legs WHERE day = ?"):
        assert rollups.route(con, q, [START])[0] == q


def test_rollups_are_maintained_incrementally(sim, tmp_path):
    path = tmp_path / "inc.duckdb"
    shutil.copy(sim.db, path)
    con = db.connect(path)
    extra = generate_tenants(tmp_path / "more", ["beta"], days=2, calls_per_day=40, seed=99,
                             start=date(2026, 6, 1))
    ingest_paths(con, extra)
    ingest_paths(con, extra)  # a repeat is a no-op
    tables = [r.table for r in rollups.ROLLUPS]
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    rollups.rebuild(con)
    for t in tables:
        assert con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() == before[t], t
    p = Params(date_from=START, date_to=date(2026, 6, 2))
    for rid in ("cdr.dashboard", "cdr.operators", "cdr.queues_by_date"):
        with rollups.disabled():
            raw = _json(con, rid, p)
        assert _json(con, rid, p) == raw
    # settings change: the queue rollup's thresholds no longer match -> raw path, same result
    con.execute("UPDATE rollup_meta SET service_level_s = 999")
    from pbxlens.reports import queue

    sql, args = queue.query(queue.BY_QUEUE, MONTH, START, END)
    assert rollups.route(con, sql, args)[0] == sql


def test_lake_export_is_incremental_and_idempotent(sim, tmp_path):
    out = tmp_path / "lake"
    con = db.connect(sim.db, read_only=True)
    first = lake.export(con, out)
    assert first.partitions_written == first.partitions_seen > 0
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet") if "_schema" not in p.parts}
    again = lake.export(con, out)
    assert again.partitions_written == 0
    path = tmp_path / "inc.duckdb"
    shutil.copy(sim.db, path)
    w = db.connect(path)
    ingest_paths(w, generate_tenants(tmp_path / "more", ["acme"], days=1, calls_per_day=30,
                                     seed=5, start=date(2026, 6, 3)))
    third = lake.export(w, out)
    assert third.written and all("tenant=acme" in k for k in third.written)
    assert {k.split("/")[0] for k in third.written if "month=" in k} >= {"calls", "call_legs"}
    for p, t in stamp.items():  # May partitions untouched
        if "month=2026-05" in p.as_posix():
            assert p.stat().st_mtime_ns == t, p
    with lake.open_duckdb(out) as lc:
        assert lc.execute("SELECT count(*) FROM calls").fetchone()[0] == \
            w.execute("SELECT count(*) FROM calls").fetchone()[0]


def _contents(path) -> dict[str, list]:
    con = duckdb.connect(str(path), read_only=True)
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() "
                                       "ORDER BY table_name").fetchall()]
    out = {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}
    con.close()
    return out


def test_backup_restore_round_trip_identical(sim, tmp_path):
    con = db.connect(sim.db, read_only=True)
    man = backup.backup(con, tmp_path / "bk")
    con.close()
    assert man["tables"]["calls"]["rows"] > 0
    backup.restore(tmp_path / "bk", tmp_path / "restored.duckdb")
    assert _contents(tmp_path / "restored.duckdb") == _contents(sim.db)
    r = db.connect(tmp_path / "restored.duckdb")  # migrations already recorded: no-op
    assert _json(r, "cdr.queues") == _json(db.connect(sim.db, read_only=True), "cdr.queues")


def test_retention_never_deletes_unexported_data(sim, tmp_path):
    path = tmp_path / "ret.duckdb"
    shutil.copy(sim.db, path)
    con = db.connect(path)
    n0 = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    today = date(2026, 7, 10)  # keep June and July: May is old
    res = retention.apply(con, months=2, today=today)  # no lake, no backup
    assert res.removed == [] and len(res.kept_unsafe) == 3
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == n0
    # a backup taken BEFORE a change does not cover the changed month
    bk = tmp_path / "bk"
    backup.backup(con, bk)
    con.execute("UPDATE calls SET caller = caller || '9' WHERE tenant = 'acme' "
                "AND unique_id = (SELECT min(unique_id) FROM calls WHERE tenant = 'acme')")
    res = retention.apply(con, months=2, today=today, backups=[bk])
    assert res.kept_unsafe == ["acme/2026-05"]
    assert sorted(res.removed) == ["beta/2026-05", "gamma/2026-05"]
    assert con.execute("SELECT DISTINCT tenant FROM calls").fetchall() == [("acme",)]
    for t in ("call_legs", "call_facts", "queue_visits", "agent_legs", "agent_legs_hourly"):
        assert con.execute(f"SELECT count(*) FROM {t} WHERE tenant <> 'acme'").fetchone()[0] == 0


def test_retention_exports_to_the_lake_first(sim, tmp_path):
    path = tmp_path / "ret.duckdb"
    shutil.copy(sim.db, path)
    con = db.connect(path)
    before = _json(con, "cdr.operators")
    out = tmp_path / "lake"
    res = retention.apply(con, months=2, lake=out, today=date(2026, 7, 10))
    assert sorted(res.removed) == [f"{t}/2026-05" for t in TENANTS] and res.rows_deleted > 0
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0
    assert _json(lake.open_duckdb(out), "cdr.operators") == before
    lake.export(con, out)  # later exports keep the archived months
    assert _json(lake.open_duckdb(out), "cdr.operators") == before
