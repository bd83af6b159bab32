"""Missed-call preferences (the Nexus "VoipToCall" and "Voip" preference tabs), stored in
`missed_settings` and edited by supervisors; defaults below."""

from __future__ import annotations

import re

import duckdb

from pbxlens import PbxlensError

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
    # a live pbx.call.start without its end hides the request at most this long
    "live_timeout_s": "3600",
}
_YES = {"yes", "y", "true", "1", "si", "sì", "on"}
_CHECK = {
    "success_min_billsec": r"\d+(\.\d+)?",
    "import_checktime": r"(?i)yes|no|true|false|on|off|1|0|si|sì",
    "require_queue": r"(?i)yes|no|true|false|on|off|1|0|si|sì",
    "originate": r"(?i)yes|no|true|false|on|off|1|0|si|sì",
    "operator_extensions": r"[0-9A-Za-z_\-]*(\s*,\s*[0-9A-Za-z_\-]+)*",
    "callback_window_start": r"([01]\d|2[0-3]):[0-5]\d",
    "callback_window_end": r"([01]\d|2[0-3]):[0-5]\d|24:00",
    "dial_timeout_s": r"\d+",
    "live_timeout_s": r"\d+",
}


def load(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    vals = dict(DEFAULTS)
    vals.update(dict(con.execute("SELECT key, value FROM missed_settings").fetchall()))
    return vals


def flag(vals: dict[str, str], key: str) -> bool:
    return vals.get(key, "").strip().lower() in _YES


def validate(key: str, value: str) -> str:
    if key not in DEFAULTS:
        raise PbxlensError(f"unknown missed-calls setting {key!r}; known: {', '.join(DEFAULTS)}")
    value = value.strip()
    pat = _CHECK.get(key)
    if pat and not re.fullmatch(pat, value):
        raise PbxlensError(f"{key}: invalid value {value!r}")
    if key == "crm_url" and value and not value.startswith(("http://", "https://")):
        raise PbxlensError("crm_url must start with http:// or https://")
    return value


def extensions(vals: dict[str, str]) -> list[str]:
    return [x.strip() for x in vals.get("operator_extensions", "").split(",") if x.strip()]
