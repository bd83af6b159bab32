from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from pbxlens.store import Stores as Store
from pbxlens.store import schema as W
from pbxlens.store import users as auth
from pbxlens.tickets import companies, notify
from tests import templates


@dataclass
class World:
    store: Store
    users: dict
    acme: int
    nextup: int
    mario: int  # contact of Acme
    anna: int  # contact of NEXTUP SRL


@pytest.fixture(scope="session")
def migrated(tmp_path_factory):
    """A migrated empty store, made once and copied for each test (migrations cost seconds)."""
    path = tmp_path_factory.mktemp("tickets-template") / "t.duckdb"
    Store(path).close()
    return path


@pytest.fixture
def store(tmp_path, migrated, ops_url, request):
    """Both stores: a copy of the migrated DuckDB file and of a migrated operations store on
    each back-end (`ops_url`: SQLite, PostgreSQL; tests/templates.py)."""
    shutil.copy(migrated, tmp_path / "t.duckdb")
    s = Store(tmp_path / "t.duckdb", templates.ops_store(ops_url, request))
    yield s
    s.close()


@pytest.fixture
def world(store) -> World:
    users = {}
    for name, role, privacy in (("u", "operator", False), ("tech", "operator", False),
                                ("sup", "supervisor", False), ("full", "supervisor", True)):
        with store.ops_write() as c:  # no password hashing: these users never log in
            uid = c.execute(W.users.insert().values(username=name, password_hash="-", role=role,
                                                    privacy=privacy)
                            .returning(W.users.c.id)).scalar_one()
        users[name] = auth.get_user(store, uid)
    with store.ops_write() as c:
        notify.set_user(c, users["u"].id, email="u@nexus.it", areas=["Assistenza"])
        notify.set_user(c, users["tech"].id, email="tech@nexus.it", areas=["Centro Analisi"])
        notify.set_user(c, users["sup"].id, email="sup@nexus.it")
        acme = companies.create_company(c, "Acme", email="info@acme.it", phones=("0461 123456",))
        mario = companies.add_contact(
            c, acme, "Mario Rossi", email="mario@acme.it", phones=("+39 333 1234567",)
        )
        nextup = companies.create_company(
            c,
            "NEXTUP SRL",
            email="info@nextup.it",
            score="A",
            outlook="buono",
            exposure="1200.50",
            credit_line="5000",
        )
        anna = companies.add_contact(
            c, nextup, "Anna Bianchi", email="anna@nextup.it", phones=("3478127773",)
        )
    return World(store, users, acme, nextup, mario, anna)
