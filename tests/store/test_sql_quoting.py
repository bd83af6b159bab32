"""The one quoting helper, attacked with hostile strings: whatever the text, DuckDB reads back
exactly that text as a value or a name, and no second statement runs."""

from __future__ import annotations

import duckdb
import pytest

from pbxlens.store import sql
from pbxlens.store.sql import UnsafeSqlValue

HOSTILE = [
    "plain", "it's", "''", "'", "a'; DROP TABLE victim; --", "'); COPY victim TO '/tmp/x'; --",
    '"', 'a"; DROP TABLE victim; --', "back\\slash\\'", "/* comment */", "-- comment",
    "new\nline", "tab\there", "semi;colon", "$1", "?", "ünïcødé €", "\u202e", "x" * 10_000,
    "E'\\x27'", "$$dollar$$", "${var}", "%s", "{braces}",
]


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE victim (x INTEGER)")
    yield c
    c.close()


def _victim_intact(con) -> bool:
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'victim'"
                       ).fetchone()[0] == 1


@pytest.mark.parametrize("text", HOSTILE)
def test_a_literal_reads_back_exactly(con, text):
    assert con.execute(f"SELECT {sql.literal(text)}").fetchone()[0] == text
    assert _victim_intact(con)


@pytest.mark.parametrize("text", HOSTILE)
def test_an_identifier_names_exactly_that_table(con, text):
    name = sql.identifier(text)
    con.execute(f"CREATE TABLE {name} (v INTEGER)")
    con.execute(f"INSERT INTO {name} VALUES (7)")
    assert con.execute(f"SELECT v FROM {name}").fetchone()[0] == 7
    assert text in {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert _victim_intact(con)


def test_nul_and_empty_are_refused():
    with pytest.raises(UnsafeSqlValue):
        sql.literal("a\x00b")
    with pytest.raises(UnsafeSqlValue):
        sql.identifier("a\x00b")
    with pytest.raises(UnsafeSqlValue):
        sql.identifier("")


def test_every_column_type_of_the_store_passes_the_type_check(store):
    types = {r[0] for r in store.execute("SELECT DISTINCT data_type FROM duckdb_columns()"
                                         " WHERE NOT internal").fetchall()}
    unusual = {t for t in types if t.startswith(("STRUCT", "MAP", "UNION"))}
    for ty in types - unusual:
        assert sql.type_name(ty) == ty


@pytest.mark.parametrize("ty", [
    "INTEGER) AS x FROM victim; DROP TABLE victim; --", "VARCHAR'", "INT; SELECT 1",
    "DECIMAL(18,4)) --", "varchar", "", "INTEGER\n", 'VARCHAR"', "BIGINT /* */",
])
def test_a_hostile_type_is_refused(ty):
    with pytest.raises(UnsafeSqlValue):
        sql.type_name(ty)
