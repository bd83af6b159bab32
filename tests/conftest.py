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


# `make test` runs the suite in two worker processes (pytest-xdist, `--dist loadgroup`): each
# test folder goes whole to one worker, so its session fixtures (seeded stores, the live
# server, Chromium, a PostgreSQL cluster) are built once, and the folders are handed out
# heaviest first so that both workers end together. Seconds of a serial run (--durations),
# rounded; a folder not listed comes last.
_FOLDER_SECONDS = {"reports": 420, "browser": 420, "ingest": 310, "missed_calls": 180,
                   "dashboards": 150, "billing": 130, "scale": 125, "live": 100, "tests": 95,
                   "tickets": 80, "views": 80, "simulate": 70, "store": 35, "delivery": 30,
                   "pbxlens": 10}
_ROOT = Path(__file__).resolve().parent.parent


def _folder(item: pytest.Item) -> str:
    """tests/<folder>/... -> <folder>; the top-level tests -> "tests"; doctests -> "pbxlens"."""
    parts = Path(str(item.fspath)).resolve().relative_to(_ROOT).parts
    return parts[1] if parts[0] == "tests" and len(parts) > 2 else parts[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "numprocesses", None):
        return  # a serial run keeps the collection order
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_folder(item)))
    items.sort(key=lambda item: -_FOLDER_SECONDS.get(_folder(item), 0))  # stable


def pytest_sessionfinish(session, exitstatus) -> None:
    """The shared live server stopped before the interpreter ends (see stop_live_server)."""
    from tests.dashboards.live import stop_live_server

    stop_live_server()
