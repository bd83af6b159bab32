from __future__ import annotations

import pytest


@pytest.fixture
def stores(tmp_path, ops_url, monkeypatch, request):
    """Both stores (the operations store on each back-end) with the fixtures of the spec's
    acceptance examples: line-seizure code 0, operators 515, 500, 612 on the PBX and as
    pbxlens users (michael, celeste, luca), mario without an extension, supervisor boss."""
    from pbxlens.config import get_settings
    from pbxlens.missed_calls import sync
    from pbxlens.store import Stores
    from tests import templates
    from tests.missed_calls.helpers import add_user

    monkeypatch.setenv("PBXLENS_LINE_PREFIX", "0")
    get_settings.cache_clear()
    templates.migrated(tmp_path / "store.duckdb", ops_url, request)  # copies of migrated ones
    s = Stores(tmp_path / "store.duckdb", ops_url)
    with s.writing() as cur:
        for ext, name in (("515", "Michael"), ("500", "Celeste"), ("612", "Luca")):
            cur.execute("INSERT INTO operators (tenant, extension, name) VALUES ('default', ?, ?)",
                        [ext, name])
        sync.push_operators(cur, s.ops)
    for name, role, ext in (("michael", "operator", "515"), ("celeste", "operator", "500"),
                            ("luca", "operator", "612"), ("mario", "operator", None),
                            ("boss", "supervisor", None)):
        add_user(s, name, role, ext)
    yield s
    s.close()
    get_settings.cache_clear()


@pytest.fixture
def con(stores):
    """A DuckDB cursor of the analytics store (the tests write facts with it, as the writer's
    jobs do)."""
    with stores.cursor() as cur:
        yield cur


@pytest.fixture
def duck(tmp_path, monkeypatch):
    """The analytics store alone, for the state machine's own tests (no operations store)."""
    from pbxlens.config import get_settings
    from pbxlens.store import analytics
    from tests import templates

    monkeypatch.setenv("PBXLENS_LINE_PREFIX", "0")
    get_settings.cache_clear()
    c = analytics.connect(templates.analytics(tmp_path / "store.duckdb"))  # a migrated copy
    yield c
    c.close()
    get_settings.cache_clear()
