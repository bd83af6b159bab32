"""What the web app shows whom: the roles of `pbxlens.store.roles`, plus the report catalog
filtered by them (the store sits below the reports, so this join lives here)."""

from __future__ import annotations

from pbxlens.reports import all_reports
from pbxlens.store.roles import (  # noqa: F401 (the web app's one import of the role rules)
    can_manage_billing,
    can_see_report,
    can_use_missed_calls,
    can_use_tickets,
    is_admin,
    is_manager,
)
from pbxlens.store.users import User


def visible_reports(user: User | None) -> list:
    return [d for d in all_reports() if can_see_report(user, d.id)]


def can_use_widgets(user: User | None) -> bool:
    return bool(visible_reports(user))
