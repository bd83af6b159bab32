from __future__ import annotations

import pytest


@pytest.fixture
def con(tmp_path, monkeypatch):
    """A fresh store with the fixtures of the spec's acceptance examples: line-seizure code 0,
    operators 515, 500, 612 on the PBX."""
    from pbxlens.config import get_settings
    from pbxlens.store import analytics as db

    monkeypatch.setenv("PBXLENS_LINE_PREFIX", "0")
    get_settings.cache_clear()
    c = db.connect(tmp_path / "store.duckdb")
    for ext, name in (("515", "Michael"), ("500", "Celeste"), ("612", "Luca")):
        c.execute("INSERT INTO operators (tenant, extension, name) VALUES ('default', ?, ?)",
                  [ext, name])
    yield c
    c.close()
    get_settings.cache_clear()
