"""The delivery outbox on both operations back-ends, against real servers: a local webhook
receiver gets the generic JSON, Slack and Teams bodies; a target that is down is retried with
exponential backoff and then fails visibly in the log; SMTP through a local aiosmtpd."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pbxlens import delivery
from pbxlens.config import get_settings
from pbxlens.delivery import Attachment, Message
from pbxlens.delivery.sender import STALE_S, backoff_s
from pbxlens.store import schema as T
from tests.delivery.servers import free_port, smtp_server, use_smtp, webhook_server


def _hook(url: str, style: str = "json", **kw) -> Message:
    return Message(channel="webhook", target=url, style=style, subject="SL below target",
                   body="Vendite: 71% < 80% over 15 minutes", origin="alert:3",
                   fields={"Queue": "Vendite", "SL": "71%"},
                   links=(("Open the wallboard", "https://pbx.example/live"),), **kw)


def _queue(stores, *messages, file: Attachment | None = None) -> int:
    with stores.ops_write() as c:
        fid = delivery.add_file(c, file, max_bytes=10**6) if file else None
        return delivery.enqueue(c, list(messages), file_id=fid)


def _log(stores):
    with stores.ops_read() as c:
        return list(reversed(delivery.log_for(c, tenant="default")))


@pytest.fixture
def fast(monkeypatch):
    s = get_settings()
    for k, v in {"delivery_attempts": 3, "delivery_backoff_s": 0.0,
                 "delivery_backoff_max_s": 0.0}.items():
        monkeypatch.setattr(s, k, v)
    return s


def test_webhooks_get_generic_slack_and_teams_bodies(stores, fast):
    with webhook_server() as rx:
        _queue(stores, *(_hook(rx.url, style) for style in ("json", "slack", "teams")))
        res = delivery.send_pending(stores)
        posts = rx.wait_for(3)
    assert (res.sent, res.failed) == (3, 0)
    generic, slack, teams = (p["json"] for p in posts)
    assert all(p["type"] == "application/json" for p in posts)
    assert generic["subject"] == "SL below target" and generic["origin"] == "alert:3"
    assert generic["fields"] == {"Queue": "Vendite", "SL": "71%"}
    assert generic["links"] == [{"label": "Open the wallboard", "url": "https://pbx.example/live"}]
    assert slack["text"] == "SL below target"
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "context"]
    assert "71% &lt; 80%" in slack["blocks"][1]["text"]["text"]  # Slack's escaping
    assert slack["blocks"][2]["elements"][0]["text"] == \
        "<https://pbx.example/live|Open the wallboard>"
    card = teams["attachments"][0]
    assert teams["type"] == "message" and \
        card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert {"title": "Queue", "value": "Vendite"} in card["content"]["body"][2]["facts"]
    assert card["content"]["actions"][0]["url"] == "https://pbx.example/live"
    log = _log(stores)
    assert [r["outcome"] for r in log] == ["sent"] * 3 and all(r["size_bytes"] > 100 for r in log)


def test_a_target_that_is_down_is_retried_then_fails_visibly(stores, fast):
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    _queue(stores, _hook(down))
    for outcome in ("retry", "retry", "failed"):
        res = delivery.send_pending(stores)
        assert (res.retried, res.failed) == ((1, 0) if outcome == "retry" else (0, 1))
    assert delivery.send_pending(stores).failed == 0  # a failed message is not tried again
    log = _log(stores)
    assert [(r["attempt"], r["outcome"]) for r in log] == [(1, "retry"), (2, "retry"),
                                                           (3, "failed")]
    assert all("ConnectError" in r["error"] for r in log)
    with stores.ops_read() as c:
        (msg,) = delivery.messages(c)
    assert msg["state"] == "failed" and msg["attempts"] == 3 and msg["last_error"]


def test_backoff_doubles_and_a_retry_waits_for_its_time(stores, monkeypatch):
    s = get_settings()
    monkeypatch.setattr(s, "delivery_backoff_s", 30.0)
    monkeypatch.setattr(s, "delivery_backoff_max_s", 3600.0)
    assert [backoff_s(n) for n in (1, 2, 3, 4, 8)] == [30, 60, 120, 240, 3600]
    with webhook_server() as rx:
        rx.status = 503  # the receiver is overloaded, then recovers
        _queue(stores, _hook(rx.url))
        assert delivery.send_pending(stores).retried == 1
        now = datetime.now(UTC)
        assert delivery.send_pending(stores, at=now).retried == 0  # not due yet
        rx.status = 200
        assert delivery.send_pending(stores, at=now + timedelta(seconds=31)).sent == 1
    assert [r["outcome"] for r in _log(stores)] == ["retry", "sent"]
    assert "HTTP 503" in _log(stores)[0]["error"]


def test_a_refusal_is_final_at_once(stores, fast):
    with webhook_server() as rx:
        rx.status = 404
        _queue(stores, _hook(rx.url))
        assert delivery.send_pending(stores).failed == 1
    assert [(r["attempt"], r["outcome"]) for r in _log(stores)] == [(1, "failed")]


def test_email_through_smtp_with_retry_while_the_server_is_down(stores, fast, monkeypatch):
    att = Attachment("report.csv", "text/csv", b"label,n\nVendite,3\n")
    msg = Message(channel="email", target="Anna Rossi <anna@ACME.it>", subject="Report",
                  body="Here it is.", origin="schedule:1", owner=7,
                  links=(("Open", "https://pbx.example/views/1"),))
    _queue(stores, msg, file=att)
    use_smtp(monkeypatch, free_port())  # configured, but nothing listens yet
    assert delivery.send_pending(stores).retried == 1
    with smtp_server() as sink:
        use_smtp(monkeypatch, sink.port)
        assert delivery.send_pending(stores).sent == 1
        ((rcpt, mail),) = sink.wait_for(1)
    assert rcpt == ["anna@acme.it"] and mail["Subject"] == "Report"
    assert "Open: https://pbx.example/views/1" in mail.get_body(("plain",)).get_content()
    (part,) = list(mail.iter_attachments())
    assert part.get_filename() == "report.csv" and part.get_content() == "label,n\nVendite,3\n"
    assert [r["outcome"] for r in _log(stores)] == ["retry", "sent"]
    with stores.ops_read() as c:
        assert delivery.log_for(c, tenant="default", owner=7)
        assert delivery.log_for(c, tenant="default", owner=8) == []
        assert delivery.log_for(c, tenant="acme") == []


def test_email_without_smtp_enabled_fails_with_the_setting_named(stores, fast):
    _queue(stores, Message(channel="email", target="a@acme.it", subject="s", body="b",
                           origin="test"))
    res = delivery.send_pending(stores)
    assert res.failed == 1 and "smtp_enabled" in res.errors[0]


def test_a_message_is_queued_once_by_its_key_and_bad_targets_are_refused(stores):
    m = _hook("https://hooks.example/x", dedupe_key="alert:3:firing:2026-05-04T07:00Z")
    assert _queue(stores, m) == 1
    assert _queue(stores, m, m) == 0
    for bad in (Message(channel="email", target="not-an-address", subject="s", body="b",
                        origin="t"),
                Message(channel="webhook", target="ftp://x", subject="s", body="b", origin="t"),
                Message(channel="sms", target="+39", subject="s", body="b", origin="t"),
                _hook("https://hooks.example/x", style="discord")):
        with pytest.raises(delivery.DeliveryError):
            _queue(stores, bad)
    with pytest.raises(delivery.DeliveryError, match="delivery_max_bytes"), \
            stores.ops_write() as c:
        delivery.add_file(c, Attachment("big.bin", "application/octet-stream", b"x" * 11),
                          max_bytes=10)


def test_a_claim_left_by_a_dead_process_is_sent_later(stores, fast):
    with webhook_server() as rx:
        _queue(stores, _hook(rx.url))
        o = T.delivery_outbox
        long_ago = datetime.now(UTC) - timedelta(seconds=STALE_S + 5)
        with stores.ops_write() as c:  # a process claimed it, then died before sending
            c.execute(o.update().values(state="sending", claimed_at=long_ago))
        assert delivery.send_pending(stores).sent == 1
        assert len(rx.wait_for(1)) == 1
        with stores.ops_write() as c:  # a fresh claim belongs to a live process: left alone
            c.execute(o.update().values(state="sending", claimed_at=datetime.now(UTC)))
        assert delivery.send_pending(stores).sent == 0
    with stores.ops_read() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(T.delivery_log)).scalar() == 1


def test_a_pass_with_nothing_due_writes_nothing(stores, fast):
    """The sender's pass every few seconds reads first: with nothing due it takes no write
    transaction (on SQLite that would queue with every webhook's commit for the write turn)."""
    from pbxlens.views import exports

    commits: list[object] = []

    def seen(conn) -> None:
        commits.append(conn)

    sa.event.listen(stores.ops, "commit", seen)
    try:
        assert delivery.send_pending(stores).sent == 0
        assert exports.run_queued(stores) == 0
    finally:
        sa.event.remove(stores.ops, "commit", seen)
    assert commits == []
