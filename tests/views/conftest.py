"""A populated store on both operations back-ends: two simulated weekdays (seed 11) ingested once
per session into a DuckDB file that each test copies, and one user per case."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

DAY1, DAY2 = date(2026, 5, 11), date(2026, 5, 12)  # a Monday and a Tuesday
PASSWORD = "correct-horse-1"


@pytest.fixture(scope="session")
def sim_store(tmp_path_factory) -> Path:
    from pbxlens.ingest import ingest_paths
    from pbxlens.simulate import generate
    from pbxlens.store import Stores

    folder = tmp_path_factory.mktemp("views_sim")
    generate(folder / "sim", days=2, calls_per_day=250, seed=11, start=DAY1,
             formats=["csv-detailed"])
    with Stores(folder / "store.duckdb", f"sqlite:///{folder / 'ops.sqlite'}") as s, \
            s.writing() as cur:
        ingest_paths(cur, [folder / "sim"])
    return folder / "store.duckdb"


@dataclass
class World:
    stores: object
    users: dict


@pytest.fixture
def world(tmp_path, ops_url, sim_store, request) -> World:
    from pbxlens.store import Stores, users
    from pbxlens.views import schedules
    from tests import templates

    for p in sim_store.parent.glob(sim_store.name + "*"):
        shutil.copy(p, tmp_path / p.name.replace(sim_store.name, "store.duckdb"))
    s = Stores(tmp_path / "store.duckdb", templates.ops_store(ops_url, request))
    made = {}
    for name, role, privacy, tenant in (("sup", "supervisor", False, "default"),
                                        ("supfull", "supervisor", True, "default"),
                                        ("admin", "admin", True, "default"),
                                        ("fin", "finance", False, "default"),
                                        ("op", "operator", False, "default"),
                                        ("acme", "supervisor", True, "acme")):
        u = users.create_user(s, name, PASSWORD, role, privacy=privacy, tenant=tenant)
        schedules.set_user_email(s, u.id, f"{name}@example.it")
        made[name] = users.get_user(s, u.id)
    yield World(s, made)
    s.close()
