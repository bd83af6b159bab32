"""Who acts on callback requests: what the lists and the actions need of a pbxlens user."""

from __future__ import annotations

from dataclasses import dataclass

from pbxlens.store.roles import MANAGERS


@dataclass(frozen=True)
class Actor:
    username: str
    role: str = "operator"
    tenant: str = "default"
    extension: str | None = None
    privacy: bool = False  # sees full external numbers

    @classmethod
    def of(cls, user) -> Actor:
        """From a `pbxlens.store.users.User`."""
        return cls(user.username, user.role, user.tenant, user.extension, user.privacy)

    @property
    def manager(self) -> bool:
        """Supervisors and admins: every open request, assignment, flush, settings."""
        return self.role in MANAGERS
