"""Roles → what a user may see. One table, read by pages, exports and the API alike.

- admin: every report, plus users, settings, directory import and ingest status;
- supervisor: every report but the billing ones;
- finance: the billing reports (`billing.*`) and the billing pages (tariffs, profiles,
  multiservice, finance export), as admin;
- operator: their own callbacks and tickets (later issues), no call-center reports.
"""

from __future__ import annotations

from pbxlens.dashboards.auth import User
from pbxlens.reports import all_reports


def can_see_report(user: User | None, report_id: str) -> bool:
    if user is None or user.disabled:
        return False
    if report_id.startswith("billing."):  # issue 8: billing is for finance and admin only
        return user.role in ("admin", "finance")
    return user.role in ("admin", "supervisor")


def can_manage_billing(user: User | None) -> bool:
    """Tariffs, billing profiles, multiservice and the finance export (issue 8 part 8)."""
    return user is not None and not user.disabled and user.role in ("admin", "finance")


def visible_reports(user: User | None) -> list:
    return [d for d in all_reports() if can_see_report(user, d.id)]


def is_admin(user: User | None) -> bool:
    return user is not None and not user.disabled and user.role == "admin"


def can_use_widgets(user: User | None) -> bool:
    return bool(visible_reports(user))


def can_use_tickets(user: User | None) -> bool:
    """Tickets and trace (issue 10): admins, supervisors and operators; an operator sees the
    tickets of their areas (pbxlens.tickets.listing.visible)."""
    return user is not None and not user.disabled and user.role in ("admin", "supervisor", "operator")
