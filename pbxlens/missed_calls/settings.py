"""Missed-call preferences (the Nexus "VoipToCall" and "Voip" preference tabs), kept in the
operations store (`missed_settings`) and edited by supervisors; defaults below.

The reconciliation in DuckDB reads the analytics store's copy (`load_copy`), which the writer
refreshes before it reconciles (`pbxlens.missed_calls.sync`).
"""

from __future__ import annotations

import re
import threading
import time
import weakref

import duckdb
import sqlalchemy as sa

from pbxlens.missed_calls import tables as T
from pbxlens.missed_calls.errors import MissedError

DEFAULTS: dict[str, str] = {
    # success = status OK and bill_secs strictly above this (L6228, MC-2; decimal compare)
    "success_min_billsec": "5",
    # "Import failed calls into time control" (A.3.3, L5446)
    "import_checktime": "no",
    # CDR candidates: only unanswered calls that went through a queue (yes) or every
    # unanswered inbound call (no)
    "require_queue": "yes",
    # "Operator Extension" (A.5): comma-separated extensions allowed for assignment; empty = all
    "operator_extensions": "",
    # callback-window indicator (A.4, MC-11)
    "callback_window_start": "09:00",
    "callback_window_end": "18:00",
    # optional CRM link template, {call_num} is replaced (A.4)
    "crm_url": "",
    # ask the PBX to originate the call when an operator clicks a number (needs pbx_url...)
    "originate": "no",
    # a click-to-call dial hides its request at most this long without a CDR row (R6b)
    "dial_timeout_s": "120",
    # a live call to the number without its end hides the request at most this long
    "live_timeout_s": "3600",
}
# Settings that change which calls count: a change rebuilds every request.
REBUILD = frozenset({"success_min_billsec", "import_checktime", "require_queue"})
_YES = {"yes", "y", "true", "1", "si", "sì", "on"}
_BOOL = r"(?i)yes|no|true|false|on|off|1|0|si|sì"
_CHECK = {
    "success_min_billsec": r"\d+(\.\d+)?",
    "import_checktime": _BOOL,
    "require_queue": _BOOL,
    "originate": _BOOL,
    "operator_extensions": r"[0-9A-Za-z_\-]*(\s*,\s*[0-9A-Za-z_\-]+)*",
    "callback_window_start": r"([01]\d|2[0-3]):[0-5]\d",
    "callback_window_end": r"([01]\d|2[0-3]):[0-5]\d|24:00",
    "dial_timeout_s": r"\d{1,6}",
    "live_timeout_s": r"\d{1,6}",
}


_ALL = sa.select(T.settings.c.key, T.settings.c.value)


def load(conn: sa.Connection) -> dict[str, str]:
    """The settings from the operations store, defaults filled in."""
    vals = dict(DEFAULTS)
    vals.update({k: v for k, v in conn.execute(_ALL) if k in DEFAULTS})
    return vals


# An operator's list and booking read the callback timeouts on every call: a round trip each on
# PostgreSQL. They read this process's copy, at most RECENT_S old; a change made in this
# process is seen at once (`forget`), one made in another process within RECENT_S.
RECENT_S = 1.0
_recent: weakref.WeakKeyDictionary[sa.Engine, tuple[float, dict[str, str]]] = (
    weakref.WeakKeyDictionary())
_recent_lock = threading.Lock()


def recent(conn: sa.Connection) -> dict[str, str]:
    """`load`, from this process's copy when it is under RECENT_S old."""
    now = time.monotonic()
    with _recent_lock:
        got = _recent.get(conn.engine)
    if got is not None and now - got[0] < RECENT_S:
        return dict(got[1])
    vals = load(conn)
    with _recent_lock:
        _recent[conn.engine] = (now, vals)
    return dict(vals)


def forget(engine: sa.Engine) -> None:
    """A setting changed through `engine`: the next `recent` reads the store."""
    with _recent_lock:
        _recent.pop(engine, None)


def load_copy(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The settings from the analytics store's copy (what the reconciliation counts with)."""
    vals = dict(DEFAULTS)
    vals.update({k: v for k, v in con.execute("SELECT key, value FROM missed_settings").fetchall()
                 if k in DEFAULTS})
    return vals


def flag(vals: dict[str, str], key: str) -> bool:
    return vals.get(key, "").strip().lower() in _YES


def validate(key: str, value: str) -> str:
    if key not in DEFAULTS:
        raise MissedError(f"unknown missed-calls setting {key!r}; known: {', '.join(DEFAULTS)}",
                          key=key)
    value = value.strip()
    pat = _CHECK.get(key)
    if pat and not re.fullmatch(pat, value):
        raise MissedError(f"{key}: invalid value {value!r}", key=key)
    if key == "crm_url" and value and not value.startswith(("http://", "https://")):
        raise MissedError("crm_url must start with http:// or https://", key=key)
    return value


def extensions(vals: dict[str, str]) -> list[str]:
    return [x.strip() for x in vals.get("operator_extensions", "").split(",") if x.strip()]
