"""Saved views: a report of the catalog with its filters and a period (relative, or a fixed
range), saved by name by a user, private or shared with their tenant.

A view holds no rights of its own: whoever opens it runs the report as themselves (role,
tenant, privacy mask), and a schedule runs it as the schedule's owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.reports import get as get_report
from pbxlens.reports import periods as P
from pbxlens.store import Stores
from pbxlens.store import schema as T
from pbxlens.store.roles import can_see_report, is_admin
from pbxlens.store.users import User
from pbxlens.views.query import ReportQuery

NAME_MAX = 120


class ViewError(PbxlensError):
    """A view that cannot be saved, found or opened by this user."""

    status = 400
    error_id = "view-refused"


class ViewNotFound(ViewError):
    status = 404
    error_id = "view-not-found"


@dataclass(frozen=True)
class SavedView:
    id: int
    owner: int
    tenant: str
    name: str
    report_id: str
    period: str
    date_from: date | None
    date_to: date | None
    filters: dict
    shared: bool
    owner_name: str = ""

    @property
    def query(self) -> ReportQuery:
        return ReportQuery(self.period, self.date_from, self.date_to,
                           {k: list(v) for k, v in self.filters.items()})

    @property
    def url(self) -> str:
        """The report page with this view's filters and period (what the home page links)."""
        return f"/reports/{self.report_id}{self.query.search()}"

    def period_label(self, lang: str) -> str:
        if self.period != P.FIXED:
            return P.label(self.period, lang)
        from pbxlens.reports import format as fmt

        if self.date_from and self.date_to:
            return f"{fmt.day_label(self.date_from)} – {fmt.day_label(self.date_to)}"
        return P.label(P.FIXED, lang)


def _from_row(r) -> SavedView:
    return SavedView(id=r["id"], owner=r["owner"], tenant=r["tenant"], name=r["name"],
                     report_id=r["report_id"], period=r["period"], date_from=r["date_from"],
                     date_to=r["date_to"], filters=dict(r["filters"] or {}),
                     shared=bool(r["shared"]), owner_name=r.get("username") or "")


def _select():
    v, u = T.saved_views, T.users
    return (sa.select(v, u.c.username).select_from(v.outerjoin(u, u.c.id == v.c.owner))
            .order_by(sa.func.lower(v.c.name), v.c.id))


def save(stores: Stores, user: User, name: str, report_id: str, query: ReportQuery, *,
         shared: bool = False) -> SavedView:
    """Save (or overwrite, by name) one of `user`'s views."""
    name = " ".join((name or "").split())
    if not name:
        raise ViewError("a view needs a name")
    if len(name) > NAME_MAX:
        raise ViewError(f"a view name has at most {NAME_MAX} characters")
    try:
        get_report(report_id)
    except KeyError:
        raise ViewError(f"unknown report {report_id!r}") from None
    if not can_see_report(user, report_id):
        raise ViewError(f"you may not see {report_id}")
    period = P.check(query.period)
    if period == P.FIXED and not (query.date_from and query.date_to):
        raise ViewError("a fixed range needs both dates")
    values = {"owner": user.id, "tenant": user.tenant, "name": name, "report_id": report_id,
              "period": period,
              "date_from": query.date_from if period == P.FIXED else None,
              "date_to": query.date_to if period == P.FIXED else None,
              "filters": {k: list(v) for k, v in query.filters.items() if v},
              "shared": bool(shared), "updated_at": datetime.now(UTC)}
    v = T.saved_views
    with stores.ops_write() as c:
        old = c.execute(sa.select(v.c.id).where(v.c.owner == user.id, v.c.name == name)).scalar()
        if old is None:
            vid = c.execute(v.insert().values(created_at=values["updated_at"], **values)
                            .returning(v.c.id)).scalar_one()
        else:
            vid = old
            c.execute(v.update().where(v.c.id == old).values(**values))
        r = c.execute(_select().where(v.c.id == vid)).mappings().one()
    return _from_row(r)


def visible(stores: Stores, user: User | None) -> list[SavedView]:
    """The user's own views and those shared with their tenant, for reports they may see."""
    if user is None or user.disabled:
        return []
    v = T.saved_views
    with stores.ops_read() as c:
        rows = c.execute(_select().where(v.c.tenant == user.tenant, sa.or_(
            v.c.owner == user.id, v.c.shared.is_(True)))).mappings().all()
    return [x for x in map(_from_row, rows) if can_see_report(user, x.report_id)]


def by_id(stores: Stores, view_id: int) -> SavedView | None:
    with stores.ops_read() as c:
        r = c.execute(_select().where(T.saved_views.c.id == view_id)).mappings().first()
    return _from_row(r) if r else None


def get_visible(stores: Stores, user: User | None, view_id: int) -> SavedView:
    """The view `view_id` if `user` may open it (else ViewNotFound: no hint it exists)."""
    found = by_id(stores, view_id)
    if (found is None or user is None or found.tenant != user.tenant
            or not (found.owner == user.id or found.shared)
            or not can_see_report(user, found.report_id)):
        raise ViewNotFound(f"no view {view_id}")
    return found


def find(stores: Stores, name_or_id: str) -> SavedView:
    """A view by id or by name, for the CLI (a name shared by several views is refused)."""
    if name_or_id.isdigit():
        found = by_id(stores, int(name_or_id))
        if found is None:
            raise ViewNotFound(f"no view {name_or_id}")
        return found
    with stores.ops_read() as c:
        rows = c.execute(_select().where(T.saved_views.c.name == name_or_id)).mappings().all()
    if not rows:
        raise ViewNotFound(f"no view named {name_or_id!r}; see `pbxlens views list`")
    if len(rows) > 1:
        ids = ", ".join(str(r["id"]) for r in rows)
        raise ViewError(f"{len(rows)} views are named {name_or_id!r} (ids {ids}): give the id")
    return _from_row(rows[0])


def all_views(stores: Stores) -> list[SavedView]:
    with stores.ops_read() as c:
        return [_from_row(r) for r in c.execute(_select()).mappings()]


def delete(stores: Stores, user: User, view_id: int) -> None:
    """Delete a view (its owner, or an admin of its tenant) and its schedules."""
    found = by_id(stores, view_id)
    if found is None or found.tenant != user.tenant or not (
            found.owner == user.id or is_admin(user)):
        raise ViewNotFound(f"no view {view_id}")
    with stores.ops_write() as c:
        c.execute(T.view_schedules.delete().where(T.view_schedules.c.view_id == view_id))
        c.execute(T.saved_views.delete().where(T.saved_views.c.id == view_id))
