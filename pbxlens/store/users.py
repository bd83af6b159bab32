"""Users, password hashing, sessions, login throttling and API tokens.

Passwords: scrypt with a per-user random salt, compared with `hmac.compare_digest`.
Sessions: a random id in an HttpOnly cookie; only its sha256 is stored, so a leaked table
cannot be replayed. Throttling: `MAX_FAILURES` failures of one username from one IP within
`LOCK_S` seconds lock that pair until the window passes, and `MAX_ADDRESS_FAILURES` failures
from one address across any usernames (password spraying) lock that address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.store import direct
from pbxlens.store import schema as T

if TYPE_CHECKING:
    from pbxlens.store import Stores

ROLES = ("admin", "supervisor", "finance", "operator")
MAX_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
LOCK_S = 60
SESSION_HOURS = 12
_SCRYPT = (2**14, 8, 1)  # n, r, p


class AuthError(PbxlensError):
    """Login refused (bad credentials, disabled user, or throttled)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    privacy: bool
    tenant: str
    extension: str | None = None
    lang: str = "it"
    disabled: bool = False

    @classmethod
    def from_row(cls, r) -> User:
        return cls(id=r["id"], username=r["username"], role=r["role"], privacy=bool(r["privacy"]),
                   tenant=r["tenant"], extension=r["extension"], lang=r["lang"] or "it",
                   disabled=bool(r["disabled"]))


# ----------------------------------------------------------------------------- passwords


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    n, r, p = _SCRYPT
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algo != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                         p=int(p), dklen=len(digest) // 2)
    return hmac.compare_digest(got.hex(), digest)


# ----------------------------------------------------------------------------- users


def create_user(store: Stores, username: str, password: str, role: str, *, privacy: bool = False,
                tenant: str = "default", extension: str | None = None, lang: str = "it") -> User:
    username = username.strip()
    if role not in ROLES:
        raise PbxlensError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    if not username or len(password) < 8:
        raise PbxlensError("a user needs a name and a password of at least 8 characters")
    with store.ops_write() as c:
        if c.execute(sa.select(T.users.c.id).where(T.users.c.username == username)).first():
            raise PbxlensError(f"user {username!r} exists")
        uid = c.execute(T.users.insert().values(
            username=username, password_hash=hash_password(password), role=role,
            privacy=privacy, tenant=tenant, extension=extension, lang=lang,
        ).returning(T.users.c.id)).scalar_one()
    return get_user(store, uid)


def get_user(store: Stores, user_id: int) -> User | None:
    with store.ops_read() as c:
        r = c.execute(sa.select(T.users).where(T.users.c.id == user_id)).mappings().first()
    return User.from_row(r) if r else None


def list_users(store: Stores) -> list[User]:
    with store.ops_read() as c:
        rows = c.execute(sa.select(T.users).order_by(T.users.c.username)).mappings().all()
    return [User.from_row(r) for r in rows]


def update_user(store: Stores, user_id: int, **values) -> None:
    allowed = {"role", "privacy", "tenant", "extension", "lang", "disabled"}
    bad = set(values) - allowed
    if bad:
        raise PbxlensError(f"cannot change {sorted(bad)}")
    if "role" in values and values["role"] not in ROLES:
        raise PbxlensError(f"unknown role {values['role']!r}")
    with store.ops_write() as c:
        c.execute(T.users.update().where(T.users.c.id == user_id).values(**values))
        if values.get("disabled"):
            c.execute(T.sessions.delete().where(T.sessions.c.user_id == user_id))


def set_password(store: Stores, user_id: int, password: str) -> None:
    if len(password) < 8:
        raise PbxlensError("a password needs at least 8 characters")
    with store.ops_write() as c:
        c.execute(T.users.update().where(T.users.c.id == user_id)
                  .values(password_hash=hash_password(password)))


# ----------------------------------------------------------------------------- login


def _now() -> datetime:
    return datetime.now(UTC)


def is_locked(store: Stores, username: str, ip: str) -> bool:
    """Too many recent failures for this username from this address, or from this address
    across usernames."""
    since = _now() - timedelta(seconds=LOCK_S)
    f = T.login_failures.c
    with store.ops_read() as c:
        pair, address = c.execute(sa.select(
            sa.func.count().filter(f.username == username), sa.func.count())
            .where(f.ip == ip, f.failed_at > since)).one()
    return pair >= MAX_FAILURES or address >= MAX_ADDRESS_FAILURES


def authenticate(store: Stores, username: str, password: str, ip: str) -> User:
    """The user, or AuthError. Failures are recorded per (username, ip) for throttling."""
    username = username.strip()
    if is_locked(store, username, ip):
        raise AuthError(f"too many failed logins: try again in {LOCK_S} seconds")
    with store.ops_read() as c:
        r = c.execute(sa.select(T.users).where(T.users.c.username == username)).mappings().first()
    # hash even for unknown users so that timing does not reveal which names exist
    ok = verify_password(password, r["password_hash"] if r else hash_password("x" * 12))
    if not r or not ok or r["disabled"]:
        with store.ops_write() as c:
            c.execute(T.login_failures.insert().values(username=username, ip=ip,
                                                       failed_at=_now()))
        raise AuthError("wrong username or password")
    with store.ops_write() as c:
        c.execute(T.login_failures.delete().where(T.login_failures.c.username == username,
                                                  T.login_failures.c.ip == ip))
    return User.from_row(r)


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def open_session(store: Stores, user: User) -> str:
    sid = secrets.token_urlsafe(32)
    with store.ops_write() as c:
        c.execute(T.sessions.delete().where(T.sessions.c.expires_at < _now()))
        c.execute(T.sessions.insert().values(sid_hash=_sha(sid), user_id=user.id,
                                             created_at=_now(),
                                             expires_at=_now() + timedelta(hours=SESSION_HOURS)))
    return sid


# Built once: every request checks its session or token, and building the statement (and its
# cache key) was a tenth of the CPU of an operator's list in an intake process.
_SESSION_USER = (sa.select(T.users).join(T.sessions, T.sessions.c.user_id == T.users.c.id)
                 .where(T.sessions.c.sid_hash == sa.bindparam("h", type_=sa.Text),
                        T.sessions.c.expires_at > sa.bindparam("now", type_=T.Instant)))
_TOKEN_USER = sa.select(T.users).where(T.users.c.id == sa.bindparam("uid", type_=sa.Integer))


def session_user(store: Stores, sid: str | None) -> User | None:
    if not sid:
        return None
    with store.ops_read() as c:
        r = c.execute(_SESSION_USER, {"h": _sha(sid), "now": _now()}).mappings().first()
    if not r or r["disabled"]:
        return None
    return User.from_row(r)


def close_session(store: Stores, sid: str | None) -> None:
    if sid:
        with store.ops_write() as c:
            c.execute(T.sessions.delete().where(T.sessions.c.sid_hash == _sha(sid)))


# ----------------------------------------------------------------------------- API tokens


def issue_token(store: Stores, user_id: int) -> str:
    """A new bearer token `pbx_<user id>_<secret>` (shown once; only its sha256 is kept)."""
    token = f"pbx_{user_id}_{secrets.token_urlsafe(32)}"
    with store.ops_write() as c:
        c.execute(T.users.update().where(T.users.c.id == user_id)
                  .values(api_token_hash=_sha(token)))
    return token


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None.

    Example:
        >>> bearer_token("Bearer pbx_1_x"), bearer_token("Basic eDp5"), bearer_token(None)
        ('pbx_1_x', None, None)
    """
    h = authorization or ""
    return h[7:].strip() if h.lower().startswith("bearer ") else None


def token_user(store: Stores, token: str | None) -> User | None:
    if not token or not token.startswith("pbx_"):
        return None
    try:
        uid = int(token.split("_", 2)[1])
    except (IndexError, ValueError):
        return None
    if not 0 < uid < 2**31:  # a user id is an INTEGER
        return None
    with store.ops_read() as c:
        r = direct.first(c, _TOKEN_USER, {"uid": uid})  # every API request: `direct`
    if not r or r["disabled"] or not r["api_token_hash"]:
        return None
    if not hmac.compare_digest(_sha(token), r["api_token_hash"]):
        return None
    return User.from_row(r)


# ----------------------------------------------------------------------------- secret key


def secret_key(store: Stores, configured: str = "") -> str:
    """PBXLENS_SECRET_KEY when set; else the key stored on first run (generated then)."""
    if configured:
        return configured
    with store.ops_write() as c:
        r = c.execute(sa.select(T.settings.c.value)
                      .where(T.settings.c.key == "secret_key")).scalar_one_or_none()
        if r:
            return r
        key = secrets.token_hex(32)
        c.execute(T.settings.insert().values(key="secret_key", value=key))
        return key
