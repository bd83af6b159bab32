"""Request-scoped access to the app's stores and the logged-in user (no module globals: the
stores hang off the Flask app, the user off `flask.g`)."""

from __future__ import annotations

import flask

from pbxlens.store import Stores
from pbxlens.store.users import User


def store() -> Stores:
    return flask.current_app.extensions["pbxlens"]


def user() -> User | None:
    return flask.g.get("user")


def lang() -> str:
    u = user()
    return u.lang if u else "en"
