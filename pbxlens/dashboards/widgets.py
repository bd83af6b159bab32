"""Per-user widgets (spec §0.6 [REC] model), stored through SQLAlchemy."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.dashboards import tables as T
from pbxlens.dashboards.store import Store

SIZES = ("s", "m", "l")


@dataclass(frozen=True)
class Widget:
    id: int
    owner: int
    page: str
    title: str
    report_id: str | None
    params: dict
    size: str
    color: str | None
    auto_refresh: bool
    position: int


def _from_row(r) -> Widget:
    return Widget(id=r["id"], owner=r["owner"], page=r["page"], title=r["title"],
                  report_id=r["report_id"], params=r["params"] or {}, size=r["size"],
                  color=r["color"], auto_refresh=bool(r["auto_refresh"]), position=r["position"])


def add(store: Store, owner: int, title: str, report_id: str, params: dict, *, size: str = "m",
        color: str | None = None, auto_refresh: bool = False, page: str = "home") -> Widget:
    title = (title or "").strip()
    if not title:
        raise PbxlensError("a widget needs a title")
    if size not in SIZES:
        raise PbxlensError(f"size must be one of {', '.join(SIZES)}")
    with store.sa_write() as c:
        pos = c.execute(sa.select(sa.func.coalesce(sa.func.max(T.widgets.c.position), 0))
                        .where(T.widgets.c.owner == owner)).scalar_one()
        wid = c.execute(T.widgets.insert().values(
            owner=owner, page=page, title=title[:120], report_id=report_id, params=params,
            size=size, color=color, auto_refresh=auto_refresh, position=pos + 1,
        ).returning(T.widgets.c.id)).scalar_one()
        r = c.execute(sa.select(T.widgets).where(T.widgets.c.id == wid)).mappings().one()
    return _from_row(r)


def list_for(store: Store, owner: int, page: str = "home") -> list[Widget]:
    with store.sa_read() as c:
        rows = c.execute(sa.select(T.widgets).where(T.widgets.c.owner == owner,
                                                    T.widgets.c.page == page)
                         .order_by(T.widgets.c.position)).mappings().all()
    return [_from_row(r) for r in rows]


def delete(store: Store, owner: int, widget_id: int) -> bool:
    """Delete one of `owner`'s widgets; another user's widget is left alone."""
    with store.sa_write() as c:
        gone = c.execute(T.widgets.delete().where(T.widgets.c.id == widget_id,
                                                  T.widgets.c.owner == owner)
                         .returning(T.widgets.c.id)).all()  # duckdb-engine's rowcount is -1
    return bool(gone)
