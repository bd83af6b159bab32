"""pandas_probe: a command binds DuckDB parameters without importing pandas, and what DuckDB
takes from pandas otherwise still works in that process. Real processes: the probe changes
the DuckDB binding's process-wide cache."""

from __future__ import annotations

import subprocess
import sys

from tests import templates
from tests.clirun import pbxlens_process

_AFTER_SKIP = r"""
import sys
import duckdb
from pbxlens.store import pandas_probe

assert pandas_probe.skip() is True
con = duckdb.connect()
assert con.execute("SELECT ?, ?, ?", [1, "x", None]).fetchall() == [(1, "x", None)]
assert "pandas" not in sys.modules, "a bound parameter imported pandas"
assert pandas_probe.skip() is True and "pandas" not in sys.modules  # again: no harm
frame = con.execute("SELECT 41 + 1 AS a").df()  # the real pandas, imported now
assert type(frame).__module__.startswith("pandas") and frame["a"].tolist() == [42]
import pandas as pd
df = pd.DataFrame({"a": [1, 2, None]})
assert con.execute("SELECT sum(a), count(a) FROM df").fetchall() == [(3.0, 2)]
assert pandas_probe.skip() is False  # pandas imported: nothing to do
print("ok")
"""


def test_bound_parameters_do_not_import_pandas_and_dataframes_still_work():
    r = subprocess.run([sys.executable, "-c", _AFTER_SKIP], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_a_command_does_not_import_pandas(tmp_path):
    store = templates.analytics(tmp_path / "s.duckdb")
    r = pbxlens_process("status", "--db", str(store),
                        env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert r.returncode == 0, r.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines()
                if line.startswith("import time:")}
    assert "pbxlens.store.pandas_probe" in imported and "duckdb" in imported
    assert not {m for m in imported if m.split(".")[0] == "pandas"}
