"""Shared fixtures: simulator output with fixed seeds, and fresh stores."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

# Tests never read a developer's pbxlens.toml or PBXLENS_* settings.
os.environ["PBXLENS_CONFIG"] = "/nonexistent/pbxlens.toml"
for _k in [k for k in os.environ if k.startswith("PBXLENS_") and k != "PBXLENS_CONFIG"]:
    del os.environ[_k]


@pytest.fixture(scope="session")
def sim_all(tmp_path_factory) -> Path:
    """Two weekdays of simulated calls in every export format, seed 11."""
    from pbxlens.simulate import ALL_FORMATS, generate

    out = tmp_path_factory.mktemp("sim_all")
    generate(out, days=2, calls_per_day=250, seed=11, start=date(2026, 5, 11),
             formats=ALL_FORMATS)
    return out


@pytest.fixture
def store(tmp_path):
    """A fresh store on disk; yields an open connection."""
    from pbxlens import db

    con = db.connect(tmp_path / "store.duckdb")
    yield con
    con.close()
