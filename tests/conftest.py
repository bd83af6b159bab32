"""Shared fixtures: simulator output with fixed seeds, and fresh stores."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

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
    """A fresh store on disk (a copy of a migrated one, tests/templates.py); yields an open
    connection."""
    from pbxlens.store import analytics as db
    from tests import templates

    con = db.connect(templates.analytics(tmp_path / "store.duckdb"))
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
def ops_url(request, tmp_path) -> Iterator[str]:
    """Each operations-store test runs on both back-ends: a SQLite file, a fresh PostgreSQL
    database (dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ops.sqlite'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database()
    yield url
    with contextlib.suppress(OperationalError):  # a test that left the server paused
        cluster.drop_database(url)


@pytest.fixture
def stores(tmp_path, ops_url, request):
    """Both stores, fresh: a DuckDB file and the operations store of `ops_url`, copies of
    migrated ones (tests/templates.py)."""
    from pbxlens.store import Stores
    from tests import templates

    templates.migrated(tmp_path / "store.duckdb", ops_url, request)
    s = Stores(tmp_path / "store.duckdb", ops_url)
    yield s
    s.close()


# `make test` runs the suite in two worker processes (pytest-xdist): each test file goes whole
# to one worker (`FileScheduling`), so its module fixtures (seeded stores, a Spark session, a
# crawl's pages) are built once, and the files are handed out longest first so that both
# workers end together: the files below by their seconds in a run of the suite (--durations,
# two workers, 2026-12-06; the CLI files and Spark as measured alone after 2026-12-07's
# changes), then the others by their folder's.
_FILE_SECONDS = {"browser/test_crawl.py": 300, "reports/test_drilldown.py": 130,
                 "reports/test_coincidence_days.py": 120, "scale/test_spark.py": 80,
                 "simulate/test_coverage.py": 80, "browser/test_app.py": 75,
                 "scale/test_lake_rollups.py": 60, "test_cli.py": 50,
                 "dashboards/test_webhook_faults.py": 45, "tickets/test_cli.py": 45,
                 "test_cli_server.py": 40, "simulate/test_formats.py": 35,
                 "views/test_cli.py": 30,
                 "ingest/test_batch_paths.py": 30, "missed_calls/test_api.py": 30,
                 "dashboards/test_intake_workers.py": 30, "reports/test_definitions_cli.py": 20}
_FOLDER_SECONDS = {"browser": 620, "reports": 590, "ingest": 420, "scale": 250,
                   "missed_calls": 220, "billing": 200, "tests": 195, "dashboards": 190,
                   "tickets": 165, "views": 160, "simulate": 155, "live": 145, "store": 80,
                   "delivery": 45, "models": 20, "pbxlens": 1}


def file_of(nodeid: str) -> str:
    """The file of a test id, below tests/ (doctests: the module's path).

    >>> file_of("tests/reports/test_a.py::test_b[x]"), file_of("pbxlens/cli.py::pbxlens.cli")
    ('reports/test_a.py', 'pbxlens/cli.py')
    """
    return nodeid.split("::", 1)[0].removeprefix("tests/")


def _weight(nodeid: str) -> tuple[int, int]:
    file = file_of(nodeid)
    if nodeid.startswith("pbxlens/"):
        folder = "pbxlens"  # doctests
    else:
        folder = file.split("/")[0] if "/" in file else "tests"
    return -_FILE_SECONDS.get(file, 0), -_FOLDER_SECONDS.get(folder, 0)


def pytest_xdist_make_scheduler(config, log):
    """The file is the unit of work, whatever --dist says (not xdist's `loadgroup` with a mark
    per folder: it writes the group into `item._nodeid`, which pytest 9.2 no longer reads, so
    every test went out alone and the module fixtures were built in both workers)."""
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return file_of(nodeid)

    return FileScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # collection runs in the workers; the scheduler keeps its order (--no-loadscope-reorder)
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return  # a serial run keeps the collection order
    items.sort(key=lambda item: _weight(item.nodeid))  # stable


def pytest_sessionfinish(session, exitstatus) -> None:
    """The shared live server stopped before the interpreter ends (see stop_live_server)."""
    from tests.dashboards.live import stop_live_server

    stop_live_server()
