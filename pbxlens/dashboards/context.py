"""Request-scoped access to the app's store and the logged-in user (no module globals:
the store hangs off the Flask app, the user off `flask.g`)."""

from __future__ import annotations

import flask

from pbxlens.dashboards.auth import User
from pbxlens.dashboards.store import Store


def store() -> Store:
    return flask.current_app.extensions["pbxlens"]


def user() -> User | None:
    return flask.g.get("user")


def lang() -> str:
    u = user()
    return u.lang if u else "en"
