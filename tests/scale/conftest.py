from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from pbxlens.ingest import ingest_paths
from pbxlens.simulate.tenants import generate_tenants
from pbxlens.store import analytics as db

TENANTS = ["acme", "beta", "gamma"]
START = date(2026, 5, 1)
END = date(2026, 5, 31)


@dataclass
class Sim:
    folder: Path
    db: Path
    lake: Path


@pytest.fixture(scope="session")
def sim(tmp_path_factory) -> Sim:
    """A simulated month (May 2026) of three tenants, ingested, and its lake."""
    from pbxlens.scale import lake

    folder = tmp_path_factory.mktemp("scale")
    dirs = generate_tenants(folder / "src", TENANTS, days=31, calls_per_day=50, seed=7,
                            start=START)
    path = folder / "store.duckdb"
    con = db.connect(path)
    ingest_paths(con, dirs)
    lake.export(con, folder / "lake")
    con.close()
    return Sim(folder, path, folder / "lake")
