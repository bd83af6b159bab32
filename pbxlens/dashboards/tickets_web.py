"""Flask routes of the ticket module around its Dash pages: the attachment upload form of a ticket (a
plain multipart form in an iframe, streamed to disk, as the ingest upload) and the download of
an attachment, both behind the app's session guard and the ticket's visibility."""

from __future__ import annotations

import flask

from pbxlens.dashboards.i18n import error_text, t
from pbxlens.reports.format import number
from pbxlens.store import Stores
from pbxlens.tickets import TicketError, attachments, listing

_FORM = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<link rel="stylesheet" href="/assets/style.css"></head><body class="pbx-frame-body">
<form method="post" enctype="multipart/form-data" class="pbx-upload">
<input type="file" name="file" id="att-file" required>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit" class="pbx-btn pbx-btn-primary" id="att-btn">{{ button }}</button>
<span class="pbx-muted">{{ limit }}</span>
</form>{% if msg %}<div class="pbx-msg" id="att-msg">{{ msg }}</div>{% endif %}</body></html>"""


def install(server: flask.Flask, store: Stores) -> None:
    folder = attachments.folder_for(store.path)

    def _visible(ticket_id: int) -> bool:
        with store.ops_read() as c:
            return listing.can_see(c, flask.g.get("user"), ticket_id)

    @server.route("/tickets/<int:ticket_id>/attach", methods=["GET", "POST"])
    def ticket_attach(ticket_id: int):
        from pbxlens.config import get_settings

        if not _visible(ticket_id):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        msg = None
        lang = flask.g.user.lang
        if flask.request.method == "POST":
            f = flask.request.files.get("file")
            if f is None or not f.filename:
                msg = t("att_none_chosen", lang)
            else:
                user = flask.g.user
                try:
                    stored = attachments.store_file(folder, ticket_id, f.filename, f.stream,
                                                    declared_type=f.mimetype)
                    with store.ops_write() as c:  # a short transaction once the file is on disk
                        attachments.record(c, ticket_id, stored, user_id=user.id)
                    msg = t("att_saved", lang, name=attachments.safe_name(f.filename))
                except TicketError as exc:
                    msg = error_text(exc, lang)
        limit = get_settings().ticket_attachment_max_bytes
        return flask.render_template_string(
            _FORM, lang=lang, msg=msg, button=t("att_upload", lang), csrf=flask.session.get("csrf", ""),
            limit=t("att_max", lang, size=number(limit / 1024 / 1024, lang=lang))
        )

    @server.route("/tickets/attachment/<int:attachment_id>")
    def ticket_attachment(attachment_id: int):
        try:
            with store.ops_read() as c:
                row, path = attachments.open_attachment(c, folder, attachment_id)
        except TicketError:
            return flask.jsonify({"error": "not-found", "status": 404}), 404
        if not _visible(row["ticket_id"]):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        return flask.send_file(
            path, mimetype=row["content_type"], as_attachment=True, download_name=row["filename"]
        )
