"""Per-user widgets (spec §0.6 [REC] model), stored through SQLAlchemy.

A widget's source is a report of the catalog (with the filters saved when it was made) or a
URL. Positions are per owner; `reorder` stores the order the user arranged in layout mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.reports import get as get_report
from pbxlens.store import Stores
from pbxlens.store import schema as T

SIZES = ("s", "m", "l")
ICONS = ("📊", "📈", "📞", "☎️", "⏱️", "👥", "🎧", "💶", "⭐", "🌐")
_COLOR_CHARS = set("#0123456789abcdefABCDEF")


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
    url: str | None = None
    icon: str | None = None
    background: str | None = None
    widget_color: str | None = None


def _from_row(r) -> Widget:
    return Widget(id=r["id"], owner=r["owner"], page=r["page"], title=r["title"],
                  report_id=r["report_id"], params=r["params"] or {}, size=r["size"],
                  color=r["color"], auto_refresh=bool(r["auto_refresh"]), position=r["position"],
                  url=r["url"], icon=r["icon"], background=r["background"],
                  widget_color=r["widget_color"])


def clean_color(value: str | None, name: str) -> str | None:
    """A `#rgb`/`#rrggbb` colour, or None; anything else (CSS injection) is refused.

    Example:
        >>> clean_color("#1f6feb", "colour")
        '#1f6feb'
    """
    v = (value or "").strip()
    if not v:
        return None
    if v[0] != "#" or len(v) not in (4, 7) or not set(v) <= _COLOR_CHARS or "#" in v[1:]:
        raise PbxlensError(f"{name}: a colour is #rgb or #rrggbb, got {value!r}")
    return v


def clean_url(value: str | None) -> str | None:
    """An http(s) URL or a site-relative path; `javascript:` and friends are refused."""
    v = (value or "").strip()
    if not v:
        return None
    if v.startswith("/") and not v.startswith("//"):
        return v
    u = urlparse(v)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise PbxlensError(f"a widget URL must start with http:// or https://, got {value!r}")
    return v


def add(store: Stores, owner: int, title: str, report_id: str | None, params: dict | None, *,
        size: str = "m", color: str | None = None, auto_refresh: bool = False,
        page: str = "home", url: str | None = None, icon: str | None = None,
        background: str | None = None, widget_color: str | None = None) -> Widget:
    title = (title or "").strip()
    if not title:
        raise PbxlensError("a widget needs a title")
    if size not in SIZES:
        raise PbxlensError(f"size must be one of {', '.join(SIZES)}")
    url = clean_url(url)
    if bool(report_id) == bool(url):
        raise PbxlensError("a widget shows either a report or a URL")
    if report_id:
        try:
            get_report(report_id)
        except KeyError:
            raise PbxlensError(f"unknown report {report_id!r}") from None
    if icon and icon not in ICONS:
        raise PbxlensError("unknown icon")
    values = dict(owner=owner, page=page, title=title[:120], report_id=report_id or None,
                  params=(params or {}) if report_id else None, size=size,
                  color=clean_color(color, "colour"), auto_refresh=auto_refresh, url=url,
                  icon=icon or None, background=clean_color(background, "background"),
                  widget_color=clean_color(widget_color, "widget colour"))
    with store.ops_write() as c:
        pos = c.execute(sa.select(sa.func.coalesce(sa.func.max(T.widgets.c.position), 0))
                        .where(T.widgets.c.owner == owner)).scalar_one()
        wid = c.execute(T.widgets.insert().values(position=pos + 1, **values)
                        .returning(T.widgets.c.id)).scalar_one()
        r = c.execute(sa.select(T.widgets).where(T.widgets.c.id == wid)).mappings().one()
    return _from_row(r)


def list_for(store: Stores, owner: int, page: str = "home") -> list[Widget]:
    with store.ops_read() as c:
        rows = c.execute(sa.select(T.widgets).where(T.widgets.c.owner == owner,
                                                    T.widgets.c.page == page)
                         .order_by(T.widgets.c.position, T.widgets.c.id)).mappings().all()
    return [_from_row(r) for r in rows]


def reorder(store: Stores, owner: int, ids: list[int], page: str = "home") -> list[int]:
    """Store `ids` (the owner's widgets in their new order) as positions 1..n. Ids of other
    users' widgets are ignored; the owner's widgets missing from `ids` keep their relative
    order after the listed ones. Returns the stored order."""
    current = [w.id for w in list_for(store, owner, page)]
    mine = set(current)
    wanted = [i for i in dict.fromkeys(int(x) for x in ids) if i in mine]
    order = wanted + [i for i in current if i not in set(wanted)]
    with store.ops_write() as c:
        for pos, wid in enumerate(order, start=1):
            c.execute(T.widgets.update().where(T.widgets.c.id == wid, T.widgets.c.owner == owner)
                      .values(position=pos))
    return order


def move(store: Stores, owner: int, widget_id: int, step: int, page: str = "home") -> list[int]:
    """Move one widget `step` places (-1 = earlier, +1 = later) in the owner's order."""
    order = [w.id for w in list_for(store, owner, page)]
    if widget_id not in order:
        return order
    i = order.index(widget_id)
    j = max(0, min(len(order) - 1, i + step))
    order.insert(j, order.pop(i))
    return reorder(store, owner, order, page)


def delete(store: Stores, owner: int, widget_id: int) -> bool:
    """Delete one of `owner`'s widgets; another user's widget is left alone."""
    with store.ops_write() as c:
        gone = c.execute(T.widgets.delete().where(T.widgets.c.id == widget_id,
                                                  T.widgets.c.owner == owner)
                         .returning(T.widgets.c.id)).all()  # duckdb-engine's rowcount is -1
    return bool(gone)
