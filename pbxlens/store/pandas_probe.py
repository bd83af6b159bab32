"""Spare a process DuckDB's import of pandas at its first bound parameter.

DuckDB's Python binding compares every bound parameter with `pandas.NaT` and `pandas.NA` (to
bind them as NULL), and its import cache imports pandas for that at the first parameter of
the process: 0.35-0.85 s of every `pbxlens` command, server and preflight child on this
machine, for pandas objects that pbxlens never binds. `skip()` lets that first comparison find
a stand-in module whose NaT and NA are private sentinels; the binding caches them, so no later
parameter imports pandas. Everything else the binding takes from pandas (`.df()`, scanning a
DataFrame) is read from the stand-in lazily, which forwards it to the real pandas, imported
then as usual.

The price is that a real `pandas.NaT` / `pandas.NA` bound as a parameter is no longer taken
for NULL, so only the processes that never bind pandas values call `skip()`: the command line
(`pbxlens.cli.main`, which starts the server too) and the preflight child; not the Python
API (`pbxlens.api`), whose callers may. When pandas is already imported it does nothing.

pyarrow imports pandas too, at its first `pa.array` of a Python list (its own check for pandas
objects): an ingest of Call Center files, the missed-call push and the inbox moves still load
pandas when they first run. Commands that only read (status, reports, lists) no longer do.
"""

from __future__ import annotations

import importlib
import sys
import types

import duckdb


class _Sentinel:
    """No value is this: the binding's NaT / NA comparison (an identity test) never holds."""

    __slots__ = ()


def _stand_in() -> types.ModuleType:
    mod = types.ModuleType("pandas", "stand-in read by DuckDB's import cache (pandas_probe)")
    mod.NaT, mod.NA = _Sentinel(), _Sentinel()  # type: ignore[attr-defined]

    def __getattr__(name: str):  # the rest from the real pandas, imported on first use
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module("pandas"), name)

    mod.__getattr__ = __getattr__  # type: ignore[method-assign]
    return mod


def skip() -> bool:
    """Make DuckDB's binding of parameters in this process skip importing pandas. True when it
    took effect (pandas was not imported yet); idempotent."""
    if "pandas" in sys.modules:
        return False
    stand_in = _stand_in()
    sys.modules["pandas"] = stand_in  # only while the binding's cache loads it
    try:
        duckdb.connect().execute("SELECT ?", [0]).fetchall()
    finally:
        if sys.modules.get("pandas") is stand_in:
            del sys.modules["pandas"]
    return True
