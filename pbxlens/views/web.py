"""HTTP routes of saved views and background exports, around the Dash pages:

- `GET /views/<id>`: the report page of a saved view (a redirect to its URL), for whoever may
  open it; 404 for anyone else (no hint that it exists);
- `GET /api/views`: the views the caller may open, as JSON (session or API token);
- `GET /exports/<id>/<token>`: an export's file, for the user who asked (404 for anyone else,
  410 once the link has expired).
"""

from __future__ import annotations

import io

import flask

from pbxlens.store import Stores
from pbxlens.views import exports, saved


def install(server: flask.Flask, store: Stores) -> None:
    @server.route("/views/<int:view_id>")
    def open_view(view_id: int):
        try:
            view = saved.get_visible(store, flask.g.user, view_id)
        except saved.ViewError as exc:
            return flask.jsonify({"error": exc.error_id, "status": 404, "message": str(exc)}), 404
        return flask.redirect(view.url)

    @server.route("/api/views")
    def api_views():
        return {"views": [{"id": v.id, "name": v.name, "report": v.report_id,
                           "period": v.period, "from": v.date_from and v.date_from.isoformat(),
                           "to": v.date_to and v.date_to.isoformat(), "filters": v.filters,
                           "shared": v.shared, "owner": v.owner_name, "url": v.url}
                          for v in saved.visible(store, flask.g.user)]}

    @server.route("/exports/<int:export_id>/<token>")
    def download_export(export_id: int, token: str):
        try:
            f = exports.download(store, flask.g.user, export_id, token)
        except exports.ExportError as exc:
            return flask.jsonify({"error": exc.error_id, "status": exc.status,
                                  "message": str(exc)}), exc.status
        resp = flask.send_file(io.BytesIO(f.data), mimetype=f.content_type, as_attachment=True,
                               download_name=f.filename)
        resp.headers["Cache-Control"] = "private, no-store"
        return resp
