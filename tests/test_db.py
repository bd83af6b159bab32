from __future__ import annotations

from pbxlens.store import analytics as db


def test_migrations_apply_once_and_are_recorded(tmp_path):
    path = tmp_path / "m.duckdb"
    con = db.connect(path)
    versions = [v for v, _n, _s in db.migrations()]
    assert [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()] == versions
    assert db.migrate(con) == []
    con.close()
    con = db.connect(path)
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(versions)


def test_session_time_zone_is_the_pbx_zone(tmp_path):
    con = db.connect(tmp_path / "z.duckdb")
    assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "Europe/Rome"


def test_path_from_environment(tmp_path, monkeypatch):
    from pbxlens.config import get_settings

    monkeypatch.setenv("PBXLENS_DB", str(tmp_path / "env.duckdb"))
    get_settings.cache_clear()
    try:
        assert db.resolve_path(None) == tmp_path / "env.duckdb"
        assert db.resolve_path(tmp_path / "cli.duckdb") == tmp_path / "cli.duckdb"
    finally:
        get_settings.cache_clear()


def _storage_version(con) -> str:
    return con.execute("SELECT tags['storage_version'] FROM duckdb_databases()"
                       " WHERE database_name = current_database()").fetchone()[0]


def test_a_new_store_takes_the_newer_storage_format_and_an_old_one_keeps_its_own(tmp_path):
    import duckdb

    old_path = tmp_path / "old.duckdb"
    duckdb.connect(str(old_path)).close()  # DuckDB's default format, as stores made before
    default = _storage_version(duckdb.connect(str(old_path), read_only=True))
    new = db.connect(tmp_path / "new.duckdb")
    assert _storage_version(new) != default
    new.close()
    old = db.connect(old_path)
    assert _storage_version(old) == default
    assert db.migrate(old) == []
