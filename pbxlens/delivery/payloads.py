"""Webhook bodies of one delivery message, in three styles:

- `json`: pbxlens's own generic document (subject, text, origin, fields, links, sent_at);
- `slack`: a Slack incoming-webhook message (`text` as the notification fallback, Block Kit
  `header`, `section` with the text and the fields, a link per `context` element);
- `teams`: a Microsoft Teams (Workflows / incoming webhook) message carrying one Adaptive Card
  (TextBlocks, a FactSet of the fields, an OpenUrl action per link).

Example:
    >>> doc = build("slack", "SL below target", "Vendite: 71% < 80%", origin="alert:3",
    ...             fields={"Queue": "Vendite"}, links=[("Open", "https://x/live")])
    >>> doc["text"], doc["blocks"][0]["type"]
    ('SL below target', 'header')
"""

from __future__ import annotations

from datetime import UTC, datetime

STYLES = ("json", "slack", "teams")
_SLACK_TEXT_MAX = 3000  # Slack refuses longer section texts
_SLACK_HEADER_MAX = 150


def build(style: str, subject: str, text: str, *, origin: str, fields: dict | None = None,
          links: list | None = None, sent_at: datetime | None = None) -> dict:
    """The body posted to a webhook of `style` (json | slack | teams)."""
    fields = {str(k): str(v) for k, v in (fields or {}).items()}
    links = [(str(label), str(url)) for label, url in (links or [])]
    if style == "slack":
        return slack(subject, text, fields, links)
    if style == "teams":
        return teams(subject, text, fields, links)
    if style != "json":
        raise ValueError(f"unknown webhook style {style!r}; choose from {', '.join(STYLES)}")
    when = (sent_at or datetime.now(UTC)).astimezone(UTC).isoformat()
    return {"subject": subject, "text": text, "origin": origin, "fields": fields,
            "links": [{"label": label, "url": url} for label, url in links], "sent_at": when}


def slack(subject: str, text: str, fields: dict[str, str], links: list[tuple[str, str]]) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:_SLACK_HEADER_MAX]}}]
    section: dict = {"type": "section",
                     "text": {"type": "mrkdwn", "text": _slack_escape(text)[:_SLACK_TEXT_MAX]}}
    if fields:
        section["fields"] = [{"type": "mrkdwn", "text": f"*{_slack_escape(k)}*\n{_slack_escape(v)}"}
                             for k, v in list(fields.items())[:10]]  # Slack's limit
    blocks.append(section)
    if links:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"<{url}|{_slack_escape(label)}>"} for label, url in links]})
    return {"text": subject, "blocks": blocks}


def _slack_escape(s: str) -> str:
    """Slack's three control characters in mrkdwn.

    Example:
        >>> _slack_escape("a < b & c")
        'a &lt; b &amp; c'
    """
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams(subject: str, text: str, fields: dict[str, str], links: list[tuple[str, str]]) -> dict:
    body: list[dict] = [
        {"type": "TextBlock", "text": subject, "weight": "Bolder", "size": "Medium",
         "wrap": True},
        {"type": "TextBlock", "text": text, "wrap": True},
    ]
    if fields:
        body.append({"type": "FactSet",
                     "facts": [{"title": k, "value": v} for k, v in fields.items()]})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "body": body,
            "actions": [{"type": "Action.OpenUrl", "title": label, "url": url}
                        for label, url in links]}
    return {"type": "message", "summary": subject,
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                             "contentUrl": None, "content": card}]}
