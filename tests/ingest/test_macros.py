"""The parse's SQL macros against their reference forms."""

import duckdb
import pytest

from pbxlens.ingest import normalize

# pbx_bool before its fast path for the PBX's own spellings: the whole rule, for every value
_BOOL_RULE = """CASE lower(trim(?))
    WHEN '1' THEN true WHEN 'true' THEN true WHEN 'yes' THEN true WHEN 'si' THEN true
    WHEN 'sì' THEN true WHEN 'y' THEN true WHEN 't' THEN true
    WHEN '0' THEN false WHEN 'false' THEN false WHEN 'no' THEN false WHEN 'n' THEN false
    WHEN 'f' THEN false ELSE NULL END"""


@pytest.mark.parametrize("text", [
    "0", "1", "", None, " 1", "0 ", " ", "TRUE", "True", "false", "Si", "SÌ", "sì", "yes",
    "No", "n", "Y", "t", "F", "2", "x", "01", "1.0",
])
def test_pbx_bool_fast_path_agrees_with_the_rule(text: str | None) -> None:
    con = duckdb.connect()
    normalize.prepare(con)
    got = con.execute("SELECT pbx_bool(CAST(? AS TEXT))", [text]).fetchone()[0]
    assert got == con.execute(f"SELECT {_BOOL_RULE}", [text]).fetchone()[0]
