from __future__ import annotations

from dataclasses import dataclass

import pytest

from pbxlens.dashboards import auth
from pbxlens.dashboards.store import Store
from pbxlens.tickets import companies, notify


@dataclass
class World:
    store: Store
    users: dict
    acme: int
    nextup: int
    mario: int  # contact of Acme
    anna: int  # contact of NEXTUP SRL


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.duckdb")
    yield s
    s.close()


@pytest.fixture
def world(store) -> World:
    users = {}
    for name, role in (("u", "operator"), ("tech", "operator"), ("sup", "supervisor")):
        users[name] = auth.create_user(store, name, "password-123", role)
    with store.sa_write() as c:
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
