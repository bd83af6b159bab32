"""Alert rules over the live state, on both operations-store back-ends, delivered to a real
local SMTP server (aiosmtpd) and a local webhook receiver: firing, recovery, cooldown,
reminders, acknowledgement, quiet hours, each kind's condition, a target that is down."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pbxlens import delivery
from pbxlens.config import get_settings
from pbxlens.ingest import inbox
from pbxlens.live import alerts, rules, snapshot
from pbxlens.store import schema
from tests.delivery.servers import smtp_server, use_smtp, webhook_server
from tests.live.helpers import at, ev, login, post, uid


@pytest.fixture
def intake(stores):
    ib = inbox.Inbox(stores.ops)
    yield ib
    ib.close()


def run(stores, s: float) -> list[tuple[str, str, str]]:
    """One evaluation at T0 + s: (kind, scope, delivery) of what it wrote."""
    with stores.ops_read() as c:
        snaps = snapshot.compute(c, at(s))
    return [(e["kind"], e["scope"], e["delivery"]) for e in alerts.evaluate(stores, snaps, at(s))]


def history(stores) -> list[tuple[str, str]]:
    with stores.ops_read() as c:
        return [(e["kind"], e["delivery"]) for e in reversed(alerts.history(c, "default"))]


def test_fire_recover_cooldown_remind_acknowledge_by_mail_and_webhook(stores, intake,
                                                                       monkeypatch):
    with smtp_server() as mail, webhook_server() as rx:
        use_smtp(monkeypatch, mail.port)
        rule = rules.save_rule(stores, "default", "Queue crowded", "waiting_above",
                               threshold=1, cooldown_min=10, lang="en", channels=[
                                   {"kind": "email", "target": "Sup <sup@Acme.IT>"},
                                   {"kind": "webhook", "target": rx.url},
                                   {"kind": "webhook", "target": rx.url, "style": "slack"}])
        assert rule.channels[0]["target"] == "sup@acme.it"
        post(intake, ev("pbx.queue.enter", 0, uid(1), caller="+393330000001"),
             ev("pbx.queue.enter", 1, uid(2, 1), caller="+393330000002"))
        assert run(stores, 5) == [("fired", "700", "sent")]
        assert run(stores, 6) == []  # still firing: nothing new
        assert delivery.send_pending(stores).sent == 3
        (to, msg), = mail.wait_for(1)
        assert to == ["sup@acme.it"]
        assert msg["Subject"] == "[pbxlens] Alert: Queue crowded · Sales: 2 calls waiting " \
                                 "(limit 1)"
        generic, slack = (p["json"] for p in rx.wait_for(2))
        assert generic["origin"] == f"alert:{rule.id}"
        assert generic["fields"] == {"Rule": "Queue crowded", "Where": "Sales",
                                     "State": "Alert", "Value": "2"}
        assert slack["text"].startswith("[pbxlens] Alert: Queue crowded")
        post(intake, ev("pbx.queue.servedcall", 10, uid(1), member_exten="201"))
        assert run(stores, 12) == [("recovered", "700", "sent")]
        post(intake, ev("pbx.queue.enter", 20, uid(3, 20)))
        assert run(stores, 25) == [("fired", "700", "cooldown")]  # 13 s after the last mail
        assert run(stores, 300) == []
        assert run(stores, 12 + 600) == [("reminder", "700", "sent")]
        assert alerts.acknowledge(stores, "default", rule.id, "700", "sup", now=at(700))
        assert not alerts.acknowledge(stores, "default", rule.id, "700", "sup", now=at(701))
        assert run(stores, 12 + 1300) == []  # acknowledged: no more reminders
        assert delivery.send_pending(stores).sent == 6
        assert len(mail.wait_for(3)) == 3
    assert history(stores) == [("fired", "sent"), ("recovered", "sent"), ("fired", "cooldown"),
                               ("reminder", "sent"), ("acknowledged", "none")]
    with stores.ops_read() as c:
        assert [r["acked_by"] for r in alerts.firing(c, "default")] == ["sup"]


def test_quiet_hours_record_without_sending_and_the_reminder_follows(stores, intake):
    # T0 is 11:00 in Rome
    rules.save_rule(stores, "default", "Nobody", "no_agent", queues=["700"],
                    quiet=("10:45", "11:10"), cooldown_min=5,
                    channels=[{"kind": "email", "target": "sup@acme.it"}])
    assert run(stores, 0) == [("fired", "700", "quiet")]
    assert run(stores, 9 * 60) == []  # 11:09: still quiet
    assert run(stores, 11 * 60) == [("reminder", "700", "sent")]  # 11:11
    post(intake, login("201", 12 * 60))
    assert run(stores, 12 * 60 + 1) == [("recovered", "700", "sent")]
    with stores.ops_read() as c:
        queued = delivery.messages(c, origin=None)
    assert len(queued) == 2


def test_no_agent_only_while_open(stores):
    rules.save_rule(stores, "default", "Nobody", "no_agent", queues=["700"])
    assert run(stores, -3.5 * 3600) == []  # 07:30, before opening
    assert run(stores, 0) == [("fired", "700", "none")]


def test_a_pause_longer_than_its_reason_allows(stores, intake):
    rules.save_rule(stores, "default", "Long breaks", "pause_too_long")  # break = 15 min
    post(intake, login("201", 0), ev("pbx.queuemember.pause", 1, member_exten="201",
                                     reason="break"))
    assert run(stores, 15 * 60) == []
    assert run(stores, 16 * 60 + 2) == [("fired", "agent:201", "none")]  # history only
    post(intake, ev("pbx.queuemember.unpause", 17 * 60, member_exten="201"))
    assert run(stores, 17 * 60 + 1) == [("recovered", "agent:201", "none")]


def test_service_level_over_the_window_and_abandon_rate(stores, intake):
    rules.save_rule(stores, "default", "SL", "sl_below", window_min=30)  # the queue's 80 %
    rules.save_rule(stores, "default", "Abandons", "abandon_rate_above", threshold=40)
    post(intake, login("201", 0),
         ev("pbx.queue.enter", 0, uid(1)), ev("pbx.queue.servedcall", 5, uid(1),
                                               member_exten="201"),
         ev("pbx.call.end", 60, uid(1)))
    assert run(stores, 61) == []  # 1 of 1 within 20 s: 100 %
    post(intake, ev("pbx.queue.enter", 100, uid(2, 100)),
         ev("pbx.queue.unservedcall", 160, uid(2, 100), reason="CANCELLED"),
         ev("pbx.call.end", 160, uid(2, 100)))
    got = sorted(run(stores, 161))
    assert got == [("fired", "700", "none"), ("fired", "700", "none")]  # 50 % SL, 50 % aband.
    with stores.ops_read() as c:
        msgs = {e["message"] for e in alerts.history(c, "default")}
    assert msgs == {"Sales: livello di servizio 50%, sotto 80%",
                    "Sales: tasso di abbandono 50% (limite 40%)"}
    # 31 minutes later the window holds none of those visits: the SL alert recovers
    assert run(stores, 161 + 31 * 60) == [("recovered", "700", "none")]


def test_a_webhook_that_is_down_fails_visibly_after_its_retries(stores, intake, monkeypatch):
    s = get_settings()
    for k, v in {"delivery_attempts": 2, "delivery_backoff_s": 0.0,
                 "delivery_backoff_max_s": 0.0}.items():
        monkeypatch.setattr(s, k, v)
    with webhook_server() as rx:
        rx.status = 503
        r = rules.save_rule(stores, "default", "Long wait", "longest_wait_above", threshold=30,
                            channels=[{"kind": "webhook", "target": rx.url, "style": "teams"}])
        post(intake, ev("pbx.queue.enter", 0, uid(1)))
        assert run(stores, 31) == [("fired", "700", "sent")]
        delivery.send_pending(stores)
        res = delivery.send_pending(stores)
        assert len(rx.wait_for(2)) == 2
    assert res.failed == 1
    with stores.ops_read() as c:
        log = [(e["origin"], e["outcome"]) for e in
               reversed(delivery.log_for(c, tenant="default"))]
    assert log == [(f"alert:{r.id}", "retry"), (f"alert:{r.id}", "failed")]


@pytest.mark.parametrize("kind, kw, message", [
    ("loud", {}, "unknown alert kind"),
    ("waiting_above", {}, "needs a threshold"),
    ("no_agent", {"quiet": ("22:00", None)}, "quiet hours"),
    ("no_agent", {"channels": [{"kind": "email", "target": "nobody"}]}, "not an email"),
    ("no_agent", {"channels": [{"kind": "webhook", "target": "ftp://x"}]}, "http"),
    ("no_agent", {"channels": [{"kind": "sms", "target": "1"}]}, "email or webhook"),
])
def test_bad_rules_are_refused_with_a_reason(stores, kind, kw, message):
    with pytest.raises(Exception, match=message):
        rules.save_rule(stores, "default", "x", kind, **kw)
    with stores.ops_read() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(schema.alert_rules)).scalar() == 0
