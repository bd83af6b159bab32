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
    from pbxlens.store import analytics as db

    con = db.connect(tmp_path / "store.duckdb")
    yield con
    con.close()


# ------------------------------------------------------------------ operations store back-ends

@pytest.fixture(scope="session")
def pg_cluster():
    """One PostgreSQL cluster for the session (tests/pgcluster.py), stopped at the end."""
    from tests.pgcluster import Cluster

    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ops_url(request, tmp_path) -> str:
    """Each operations-store test runs on both back-ends: a SQLite file, a fresh PostgreSQL
    database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.sqlite'}"
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def stores(tmp_path, ops_url):
    """Both stores, fresh: a DuckDB file and the operations store of `ops_url`."""
    from pbxlens.store import Stores

    s = Stores(tmp_path / "store.duckdb", ops_url)
    yield s
    s.close()


def pytest_sessionfinish(session, exitstatus) -> None:
    """The shared live server stopped before the interpreter ends (see stop_live_server)."""
    from tests.dashboards.live import stop_live_server

    stop_live_server()
