"""The server's scale endpoint: `POST /api/admin/backup {"out": DIR}` (admin session or
Bearer token). The server is the store's single writer, so it takes the snapshot itself, as a
job of its analytics writer (no write can interleave)."""

from __future__ import annotations

import flask

from pbxlens import PbxlensError
from pbxlens.store import roles as access


def register(server: flask.Flask, store) -> None:
    @server.route("/api/admin/backup", methods=["POST"])
    def api_backup():
        from pbxlens.scale import backup

        if not access.is_admin(flask.g.user):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        body = flask.request.get_json(silent=True) or {}
        out = backup.server_folder(body.get("out"), store.path)
        if out is None:
            return flask.jsonify({"error": "bad-request", "status": 400,
                                  "message": "out: a new folder inside the backup folder"
                                             " (setting backup_dir)"}), 400
        try:
            man = store.writer.run("backup", str(out), lambda ctx: backup.backup(ctx.con, out),
                                   created_by=flask.g.user.username)
        except PbxlensError as exc:
            return flask.jsonify({"error": "bad-request", "status": 400,
                                  "message": str(exc)}), 400
        return flask.jsonify({"out": str(out), "tables": man["tables"]})
