"""The server's scheduled PBX pull (issue 7): configured by settings, it loads the fake PBX's
calls over real HTTP into the server's store, keeps going after a failed pass, and stops."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pbxlens.dashboards import jobs
from pbxlens.simulate.fake_pbx import FakePbx
from pbxlens.store import Stores as Store


def _call(uid: str, start: str) -> dict:
    return {"unique_id": uid, "source_type": "ibl", "destination_type": "local_exten",
            "status": "OK", "start_datetime": start, "answer_datetime": start,
            "end_datetime": start, "caller": "3331234567", "called": "0287654321",
            "duration": "00:00:00", "bill_secs": "0", "details": [
                {"source_num": "3331234567", "destination_type": "local_exten",
                 "destination_id": "201", "destination_num": "201", "enter_datetime": start,
                 "exit_datetime": start, "exit_cause": "ANSWER", "answered_by": "201"}]}


@pytest.fixture
def fake():
    pbx = FakePbx()
    srv, url = pbx.start()
    pbx.url = url
    yield pbx
    srv.shutdown()
    srv.server_close()


def _wait_for(predicate, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_no_pull_without_pbx_settings(tmp_path, monkeypatch):
    for name in ("PBXLENS_PBX_URL", "PBXLENS_PBX_USER", "PBXLENS_PBX_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PBXLENS_CONFIG", str(tmp_path / "none.toml"))
    store = Store(tmp_path / "s.duckdb")
    try:
        stop = jobs.start(store, interval_s=3600)
        assert not any(t.name == "pbxlens-pull" and t.is_alive() for t in _threads())
        stop.set()
    finally:
        store.close()


def _threads():
    import threading

    return threading.enumerate()


def test_scheduled_pull_loads_new_calls_and_survives_failures(fake, tmp_path, monkeypatch):
    today = datetime.now(ZoneInfo("Europe/Rome")).date().isoformat()
    fake.add_calls([_call("1778000000.1", f"{today} 09:00:00")])
    monkeypatch.setenv("PBXLENS_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PBXLENS_TIMEZONE", "Europe/Rome")
    monkeypatch.setenv("PBXLENS_PBX_URL", fake.url)
    monkeypatch.setenv("PBXLENS_PBX_USER", "admin")
    monkeypatch.setenv("PBXLENS_PBX_PASSWORD", "admin")
    monkeypatch.setenv("PBXLENS_PULL_INTERVAL_S", "1")
    store = Store(tmp_path / "s.duckdb")
    stop = jobs.start(store, interval_s=3600)
    try:
        def count() -> int:
            with store.cursor() as cur:
                return cur.execute("SELECT count(*) FROM calls").fetchone()[0]

        assert _wait_for(lambda: count() == 1), "the first scheduled pull did not load the call"
        fake.fail_next = 4  # the PBX answers 503 for a while: passes fail, the job lives on
        fake.add_calls([_call("1778000000.2", f"{today} 10:00:00")])
        assert _wait_for(lambda: count() == 2, timeout=120), "the pull did not recover"
        with store.cursor() as cur:  # never duplicated by the repeated passes
            assert cur.execute("SELECT count(DISTINCT unique_id), count(*) FROM calls").fetchone() \
                == (2, 2)
            assert cur.execute("SELECT count(*) FROM pull_watermarks").fetchone()[0] == 1
    finally:
        stop.set()
        time.sleep(1.2)
        store.close()
