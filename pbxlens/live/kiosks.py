"""Kiosk links: a read-only wallboard URL for a TV, bound to a tenant and a set of queues,
revocable. Only the SHA-256 of the token is stored; a link shows no external number at all
(the kiosk view carries no calls list) and nothing of other queues or tenants.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.store import schema

_K = schema.live_kiosks
# A TV asks every second: a resolved link is kept for RESOLVED_TTL_S (a revocation through this
# process drops it at once; one through another process takes effect within the TTL).
RESOLVED_TTL_S = 5.0
_resolved: dict[str, tuple[float, Kiosk]] = {}
_resolved_lock = threading.Lock()


class KioskError(PbxlensError):
    status = 400


@dataclass(frozen=True)
class Kiosk:
    id: int
    tenant: str
    queues: list[str]
    label: str
    lang: str
    revoked: bool = False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _kiosk(r) -> Kiosk:
    return Kiosk(r.id, r.tenant, json.loads(r.queues or "[]"), r.label, r.lang,
                 r.revoked_at is not None)


def create(stores, tenant: str, label: str, queues=(), lang: str = "it",
           by: str | None = None) -> tuple[Kiosk, str]:
    """A new link; returns it and its token (shown once)."""
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise KioskError("a kiosk link needs a label (at most 100 characters)")
    token = secrets.token_urlsafe(24)
    with stores.ops_write() as c:
        kid = c.execute(_K.insert().values(
            token_hash=_hash(token), tenant=tenant, label=label,
            queues=json.dumps(sorted({str(q) for q in queues or ()})),
            lang="en" if lang == "en" else "it", created_by=by,
            created_at=datetime.now(UTC))).inserted_primary_key[0]
        r = c.execute(sa.select(_K).where(_K.c.id == kid)).first()
    return _kiosk(r), token


def resolve(stores, token: str | None) -> Kiosk | None:
    """The live link of `token`, else None (unknown, malformed or revoked)."""
    if not token or len(token) > 100:
        return None
    key = _hash(token)
    hit = _resolved.get(key)
    if hit is not None and time.monotonic() - hit[0] < RESOLVED_TTL_S:
        return hit[1]
    with stores.ops_read() as c:
        r = c.execute(sa.select(_K).where(_K.c.token_hash == key,
                                          _K.c.revoked_at.is_(None))).first()
    if r is None:
        return None
    k = _kiosk(r)
    with _resolved_lock:
        if len(_resolved) > 1000:  # bounded: only links that exist get here
            _resolved.clear()
        _resolved[key] = (time.monotonic(), k)
    return k


def list_for(conn: sa.Connection, tenant: str) -> list[Kiosk]:
    return [_kiosk(r) for r in conn.execute(
        sa.select(_K).where(_K.c.tenant == tenant).order_by(_K.c.id))]


def revoke(stores, tenant: str, kiosk_id: int) -> bool:
    with stores.ops_write() as c:
        done = bool(c.execute(_K.update().where(
            _K.c.id == kiosk_id, _K.c.tenant == tenant, _K.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))).rowcount)
    with _resolved_lock:
        for key in [k for k, (_t, kiosk) in _resolved.items() if kiosk.id == kiosk_id]:
            del _resolved[key]
    return done
