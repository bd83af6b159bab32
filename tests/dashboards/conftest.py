from __future__ import annotations

import httpx
import pytest

from tests.dashboards.live import live_server, login


@pytest.fixture(scope="session")
def live():
    return live_server()


@pytest.fixture
def client_for(live):
    """client_for("sup") -> an httpx client logged in as that user."""
    made = []

    def make(username: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=live.base_url, timeout=60)
        made.append(c)
        if username:
            r = login(c, username)
            assert r.status_code == 302, r.text
        return c

    yield make
    for c in made:
        c.close()
