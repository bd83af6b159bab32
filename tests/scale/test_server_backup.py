"""Backup while the server runs: the server holds the store (single writer), so the CLI asks
it for the snapshot over HTTP; the restore has the server store's exact contents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

from pbxlens.scale import backup
from tests.dashboards.live import live_server


def _contents(con) -> dict[str, list]:
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT "
                                       "temporary AND database_name = current_database() "
                                       "ORDER BY table_name").fetchall()]
    return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}


def test_backup_through_the_running_server(tmp_path):
    live = live_server()
    out = live.store.path.parent / "backups" / f"bk-{tmp_path.name}"  # the backup folder
    cli = [sys.executable, "-m", "pbxlens", "backup", "--out", str(out)]
    # the store is held: a direct backup says so and exits 3
    r = subprocess.run([*cli, "--db", str(live.store.path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 3 and "--server" in r.stderr
    # a supervisor may not take backups
    r = subprocess.run([*cli, "--server", live.base_url, "--token", live.tokens["sup"]],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "403" in r.stderr
    r = subprocess.run([*cli, "--server", live.base_url, "--token", live.tokens["admin"]],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    backup.restore(out, tmp_path / "restored.duckdb")
    with live.store.writing() as cur:  # no write can land while we read
        want = _contents(cur)
    got = _contents(duckdb.connect(str(tmp_path / "restored.duckdb"), read_only=True))
    assert got.keys() == want.keys() and got == want


def _ask(live, out, who="admin"):
    return httpx.post(live.base_url + "/api/admin/backup", json={"out": out},
                      headers={"Authorization": f"Bearer {live.tokens[who]}"}, timeout=300)


@pytest.mark.parametrize("out", [
    "/tmp/pbxlens-evil-backup", "../escaped", "backups/../../escaped", "", ".", "a\x00b",
    None, 17, ["x"],
])
def test_server_backup_writes_only_inside_the_backup_folder(tmp_path, out):
    live = live_server()
    before = set(live.store.path.parent.iterdir())
    r = _ask(live, out)
    assert r.status_code == 400, r.text
    assert "backup_dir" in r.json()["message"]
    assert set(live.store.path.parent.iterdir()) <= before | {live.store.path.parent / "backups"}
    assert not Path("/tmp/pbxlens-evil-backup").exists()


def test_a_symlink_out_of_the_backup_folder_is_refused(tmp_path):
    live = live_server()
    base = live.store.path.parent / "backups"
    base.mkdir(exist_ok=True)
    link = base / f"link-{tmp_path.name}"
    link.symlink_to(tmp_path)
    r = _ask(live, f"{link.name}/inner")
    assert r.status_code == 400
    assert list(tmp_path.iterdir()) == []


def test_a_quote_in_the_folder_name_cannot_write_elsewhere(tmp_path):
    """The path reaches EXPORT DATABASE (no bound parameters there) through the quoting
    helper: a name built to close the string and start a second statement is just a name."""
    live = live_server()
    name = f"q-{tmp_path.name}' (FORMAT csv); COPY (SELECT 1) TO '/tmp/pbxlens-injected.csv'; --"
    r = _ask(live, name)
    assert r.status_code == 200, r.text
    assert (live.store.path.parent / "backups" / name / backup.MANIFEST).exists()
    assert not Path("/tmp/pbxlens-injected.csv").exists()


def test_a_lake_manifest_cannot_inject_sql(tmp_path):
    """A lake is a folder anyone may hand over: names and types in its manifest are checked
    or quoted, and the time zone is bound."""
    import json

    from pbxlens import PbxlensError
    from pbxlens.scale import lake
    from pbxlens.store.sql import UnsafeSqlValue

    (tmp_path / lake.SCHEMA_DIR).mkdir()
    duckdb.connect().execute(
        f"COPY (SELECT 1 AS a) TO '{(tmp_path / lake.SCHEMA_DIR / 't.parquet').as_posix()}'")

    def manifest(tables):
        (tmp_path / lake.MANIFEST).write_text(json.dumps({"version": 1, "tables": tables}))

    manifest({"t": {"columns": [["a", "INTEGER) AS a FROM range(1); COPY (SELECT 1) TO "
                                      "'/tmp/pbxlens-lake.csv'; --"]], "partitions": {}}})
    with pytest.raises(UnsafeSqlValue):
        lake.open_duckdb(tmp_path, tz="Europe/Rome")
    manifest({"t; DROP VIEW x": {"columns": [["a", "INTEGER"]], "partitions": {}}})
    with pytest.raises(PbxlensError):
        lake.open_duckdb(tmp_path, tz="Europe/Rome")
    manifest({"t": {"columns": [['a" FROM range(1); --', "INTEGER"]], "partitions": {}}})
    with pytest.raises(duckdb.BinderException):  # a quoted name the file does not have
        lake.open_duckdb(tmp_path, tz="Europe/Rome")
    manifest({"t": {"columns": [["a", "INTEGER"]], "partitions": {}}})
    with pytest.raises(duckdb.Error):  # bound: an unknown zone, not a second statement
        lake.open_duckdb(tmp_path, tz="UTC'; COPY (SELECT 1) TO '/tmp/pbxlens-lake.csv'; --")
    assert lake.open_duckdb(tmp_path, tz="Europe/Rome").execute("SELECT a FROM t").fetchall() \
        == [(1,)]
    assert not Path("/tmp/pbxlens-lake.csv").exists()
