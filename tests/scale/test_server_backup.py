"""Backup while the server runs: the server holds the store (single writer), so the CLI asks
it for the snapshot over HTTP; the restore has the server store's exact contents."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from pbxlens.scale import backup
from tests.dashboards.live import live_server


def _contents(con) -> dict[str, list]:
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT "
                                       "temporary AND database_name = current_database() "
                                       "ORDER BY table_name").fetchall()]
    return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}


def test_backup_through_the_running_server(tmp_path):
    live = live_server()
    out = tmp_path / "bk"
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
