"""The tenant-wide alert rules on both operations-store back-ends: the intake stalled (PBX
events in the operations store's inbox, CDR batches in the analytics store) during opening
hours, and calls left unrated over a window (equal to billing.unrated for a whole day of
simulator output): firing, cooldown, recovery."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pbxlens.ingest import inbox, ingest_paths
from pbxlens.live import alerts, health, rules, snapshot
from pbxlens.reports.billing_unrated import unrated_count
from pbxlens.simulate import generate
from pbxlens.store import schema
from tests.live.helpers import at, ev, post, uid

HOOK = [{"kind": "webhook", "target": "http://127.0.0.1:9/alerts"}]  # queued, never sent


@pytest.fixture(autouse=True)
def fresh_measures(monkeypatch):
    monkeypatch.setattr(health, "SLOW_EVERY_S", 0.0)


def run(stores, s: float) -> list[tuple[str, str, str]]:
    with stores.ops_read() as c:
        snaps = snapshot.compute(c, at(s))
    return sorted((e["kind"], e["scope"], e["delivery"])
                  for e in alerts.evaluate(stores, snaps, at(s)))


def _event_at(stores, s: float) -> None:
    ib = inbox.Inbox(stores.ops)
    try:
        post(ib, ev("pbx.queue.enter", s, uid(int(s) + 1, s)))
    finally:
        ib.close()
    with stores.ops_write() as c:  # the intake stamps the wall clock: move it to T0 + s
        last = c.execute(schema.event_inbox.select().order_by(schema.event_inbox.c.id.desc())
                         ).first()
        c.execute(schema.event_inbox.update().where(schema.event_inbox.c.id == last.id)
                  .values(received_at=at(s)))


def _cdr_batch_at(stores, s: float) -> None:
    with stores.writing() as cur:
        cur.execute("INSERT INTO ingest_batches (source, sha256, format, tenant, started_at,"
                    " finished_at) VALUES ('cdr.csv', ?, 'kalliope_cdr_csv_detailed',"
                    " 'default', ?, ?)", [f"x{s}", at(s), at(s)])


def test_intake_stalled_fires_cools_down_and_recovers(stores):
    rules.save_rule(stores, "default", "Feed", "intake_stalled", threshold=10,
                    cooldown_min=30, channels=HOOK, lang="en")
    assert run(stores, 3600) == []  # nothing ever received: not watched
    _event_at(stores, 0)
    _cdr_batch_at(stores, 0)
    assert run(stores, 9 * 60) == []
    assert run(stores, 11 * 60) == [("fired", "cdr", "sent"), ("fired", "events", "sent")]
    with stores.ops_read() as c:
        msgs = {e["message"] for e in alerts.history(c, "default")}
    assert msgs == {"PBX events: nothing received for 00:11:00 (limit 00:10:00)",
                    "CDR and PBX pull: nothing received for 00:11:00 (limit 00:10:00)"}
    _event_at(stores, 12 * 60)
    assert run(stores, 12 * 60 + 30) == [("recovered", "events", "sent")]
    assert run(stores, 23 * 60) == [("fired", "events", "cooldown")]  # 12 min after the mail
    _cdr_batch_at(stores, 24 * 60)
    assert run(stores, 24 * 60 + 1) == [("recovered", "cdr", "sent")]
    # closed (20:00 in Rome): a silent intake is no alert
    assert run(stores, 9 * 3600) == [("recovered", "events", "none")]


@pytest.fixture
def unrated_day(stores, tmp_path):
    day = date(2026, 5, 11)
    generate(tmp_path / "sim", days=1, calls_per_day=200, seed=3, start=day,
             formats=["csv-detailed"])
    with stores.writing() as cur:
        ingest_paths(cur, [tmp_path / "sim" / "directory.json",
                           tmp_path / "sim" / "cdr_detailed.csv"])
    return day


def test_unrated_calls_over_a_window(stores, unrated_day):
    with stores.cursor() as cur:  # no tariff at all: every ratable call is unrated
        whole = unrated_count(cur, unrated_day, unrated_day, tenant="default")
        hour = health.unrated_since(cur, "default", at(-3600), at(0))
        assert 0 < hour < whole
        end = at(13 * 3600 - 1)  # 23:59:59 in Rome
        assert health.unrated_since(cur, "default", end - timedelta(hours=24), end) == whole
    rules.save_rule(stores, "default", "Tariffs", "unrated_above", threshold=hour - 1,
                    window_min=60, cooldown_min=120, channels=HOOK)
    assert run(stores, 0) == [("fired", "billing", "sent")]
    with stores.ops_read() as c:
        assert alerts.history(c, "default")[0]["value"] == hour
    assert run(stores, 1) == []
    assert run(stores, 10 * 3600) == [("recovered", "billing", "sent")]  # 21:00: none since 20
    assert run(stores, 10 * 3600 + 60) == []
    with stores.cursor() as cur:
        assert health.unrated_since(cur, "default", at(-3600), at(0)) == hour
    assert run(stores, 0) == [("fired", "billing", "cooldown")]
    rules.save_rule(stores, "default", "Any", "unrated_above", window_min=60)
    assert ("fired", "billing", "none") in run(stores, 5)  # no threshold: any unrated call


def test_the_new_kinds_are_valid_and_tenant_wide():
    assert {"intake_stalled", "unrated_above"} == rules.TENANT_WIDE
    assert set(rules.KINDS) >= rules.TENANT_WIDE
