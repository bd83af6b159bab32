"""The server's daily consistency check on both operations-store back-ends: yesterday's live
counters against its CDR, once the morning has come, the CDR is in and no check of that day
exists; then never again for that day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pbxlens.live import consistency
from pbxlens.store import schema

ROME = ZoneInfo("Europe/Rome")
DAY = date(2026, 5, 11)


def _local(h: int, m: int = 0) -> datetime:
    return datetime(2026, 5, 12, h, m, tzinfo=ROME).astimezone(UTC)


def _counters(stores, offered: int) -> None:
    zero = dict.fromkeys(("answered", "sl_hit", "abandoned", "short_abandoned",
                          "never_queued", "unanswered", "asa_sum_s", "longest_wait_s"), 0)
    with stores.ops_write() as c:
        c.execute(schema.live_counters.insert().values(
            tenant="default", queue="700", day=DAY, queue_name="Sales", offered=offered,
            updated_at=_local(0), **zero))


def _cdr_visit(stores) -> None:
    with stores.writing() as cur:
        cur.execute(
            "INSERT INTO queue_visits (tenant, unique_id, leg_branch, seq, day, hr, dow,"
            " status, qkey, queue_id, queue_name, empty_queue, exit_cause, block, answered,"
            " account, queuing_s, resp_s, talk_s, tot_s, dur_s, wait_s, asa_s) VALUES"
            " ('default', '1778490000.1', 0, 1, ?, 11, 1, 'OK', '700', '700', 'Sales', false,"
            " 'NCC-AGENT', 'NCC-AGENT', true, '201', 0, 5, 60, 65, 65, 0, 5)", [DAY])


def test_yesterday_is_checked_once_after_the_morning_and_its_cdr(stores):
    assert consistency.daily_pass(stores, _local(7)) is None  # no live counters
    _counters(stores, offered=2)
    with stores.ops_read() as c:
        assert consistency.due_day(c, _local(5, 59)) is None  # before 06:00
        assert consistency.due_day(c, _local(6, 1)) == DAY
    assert consistency.daily_pass(stores, _local(6, 1)) is None  # no CDR of that day yet
    _cdr_visit(stores)
    res = consistency.daily_pass(stores, _local(6, 11))
    assert res["day"] == "2026-05-11" and not res["ok"]
    assert [(d["field"], d["live"], d["cdr"]) for d in res["differences"]][:2] == [
        ("offered", 2, 1), ("answered", 0, 1)]
    assert consistency.daily_pass(stores, _local(9)) is None  # done for that day
    with stores.ops_read() as c:
        assert [r["day"] for r in consistency.last_checks(c)] == [DAY]
