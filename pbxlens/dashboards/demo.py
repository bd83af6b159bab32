"""Demo users for `pbxlens demo`: one per role, fresh random passwords on every run."""

from __future__ import annotations

import secrets

from pbxlens.store import Stores, users

DEMO_USERS = (("admin", "admin", True), ("supervisor", "supervisor", False),
              ("finance", "finance", False), ("operator", "operator", False))


def ensure_demo_users(store: Stores) -> list[tuple[str, str, str]]:
    """(username, role, password) of the demo users, created or given a new password."""
    existing = {u.username: u for u in users.list_users(store)}
    out = []
    for name, role, privacy in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        if name in existing:
            users.set_password(store, existing[name].id, password)
            users.update_user(store, existing[name].id, disabled=False)
        else:
            users.create_user(store, name, password, role, privacy=privacy)
        out.append((name, role, password))
    return out
