"""Delivery of messages by email (SMTP, settings `smtp_*`) and webhook (generic JSON, Slack,
Teams), for every feature that sends something: scheduled reports, background-export links,
alerts.

Interface::

    from pbxlens import delivery

    with stores.ops_write() as conn:           # in the caller's own transaction
        fid = delivery.add_file(conn, delivery.Attachment("q.xlsx", XLSX, data),
                                max_bytes=settings.delivery_max_bytes)   # optional
        delivery.enqueue(conn, [delivery.Message(
            channel="email", target="anna@acme.it", subject=..., body=...,
            origin="alert:3", tenant=user.tenant, owner=user.id,
            fields={"Queue": "Vendite"}, links=(("Open", url),),
            dedupe_key="alert:3:firing:2026-05-04T07:00Z")], file_id=fid)
    delivery.wake()                             # the server's sender runs a pass now

    delivery.send_pending(stores)               # one pass (tests, `pbxlens schedules run-due`)
    delivery.log_for(conn, tenant=..., owner=None | user_id)   # the log pages show

`channel="webhook"` takes an http(s) URL as `target` and `style="json" | "slack" | "teams"`.
The server runs `start_sender(stores, stop)`; messages are retried with exponential backoff and
end `sent` or `failed`, every attempt in `delivery_log`.
"""

from pbxlens.delivery.outbox import (
    Attachment,
    DeliveryError,
    Message,
    add_file,
    enqueue,
    file_of,
    log_for,
    messages,
    prune_files,
)
from pbxlens.delivery.sender import SendSummary, send_pending, start_sender, wake

__all__ = ["Attachment", "DeliveryError", "Message", "SendSummary", "add_file", "enqueue",
           "file_of", "log_for", "messages", "prune_files", "send_pending", "start_sender", "wake"]
