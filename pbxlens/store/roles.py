"""Roles → what a user may do. One table, read by pages, exports, the API and the CLI alike.

- admin: every report, plus users, settings, directory import and ingest status;
- supervisor: every report but the billing ones, callback assignment, the live wallboard;
- finance: the billing reports (`billing.*`) and the billing pages (tariffs, profiles,
  multiservice, finance export);
- operator: their own callbacks and tickets, no call-center reports.
"""

from __future__ import annotations

from pbxlens.store.users import User

MANAGERS = ("admin", "supervisor")


def active(user: User | None) -> bool:
    return user is not None and not user.disabled


def can_see_report(user: User | None, report_id: str) -> bool:
    if not active(user):
        return False
    if report_id.startswith("billing."):  # billing is for finance and admin only
        return user.role in ("admin", "finance")
    return user.role in MANAGERS


def can_manage_billing(user: User | None) -> bool:
    """Tariffs, billing profiles, multiservice and the finance export."""
    return active(user) and user.role in ("admin", "finance")


def is_admin(user: User | None) -> bool:
    return active(user) and user.role == "admin"


def is_manager(user: User | None) -> bool:
    """Supervisors and admins: callback assignment and flush, the wallboard."""
    return active(user) and user.role in MANAGERS


def can_use_missed_calls(user: User | None) -> bool:
    return active(user) and user.role in ("operator", *MANAGERS)


def can_use_tickets(user: User | None) -> bool:
    """Tickets and trace: admins, supervisors and operators; an operator sees the tickets of
    their areas (pbxlens.tickets.listing.visible)."""
    return active(user) and user.role in ("operator", *MANAGERS)
