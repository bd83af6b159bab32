"""PBX event notifications (formats.md §2): one JSON object per event.

The same parser serves the events webhook (pbxlens/dashboards/webhooks.py, a body holds one
event or an array) and the event-log file (JSON lines, loaded by `pbxlens ingest`): both paths
store the same `pbx_events` rows under the same key, and the pipeline's activity step turns
the queue-member events among them into agent activity facts (pbxlens/ingest/activity.py)
after the batch commits, whichever path stored them.

Queue-member events (`pbx.queuemember.added|removed|pause|unpause`, L13453-13459) carry their
parameters in `params`; the seed does not list them (pbx_data.md A-14), so several spellings
are accepted (QUEUE_KEYS ...). A member event must name its member; `added` / `removed` must
name their queue; a pause without a queue pauses the member in every queue.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import duckdb
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from pbxlens.ingest import loader
from pbxlens.ingest.loader import FileResult
from pbxlens.ingest.normalize import MAX_YEAR, MIN_YEAR

MEMBER_EVENTS = {"pbx.queuemember.added": "added", "pbx.queuemember.removed": "removed",
                 "pbx.queuemember.pause": "pause", "pbx.queuemember.unpause": "unpause"}
QUEUE_KEYS = ("queue", "queue_id", "queue_number", "queue_exten")
QUEUE_NAME_KEYS = ("queue_name", "queuename")
ACCOUNT_KEYS = ("member_account", "account", "member", "interface", "peer")
EXTEN_KEYS = ("member_exten", "member_extension", "extension", "exten")
REASON_KEYS = ("reason", "pause_reason", "paused_reason")
FORMAT = "pbx_events_jsonl"


class BadEvent(Exception):
    """An event that cannot be stored (the webhook answers 400, a file line is quarantined)."""


_PLACEHOLDER = re.compile(r"^%[A-Za-z0-9_\[\]]+%$")


def _clean(v: object) -> str | None:
    """Empty and unreplaced `%PLACEHOLDER%` values (the PBX leaves unknown ones verbatim)
    read as absent."""
    if v is None:
        return None
    s = str(v).strip()
    return None if s == "" or _PLACEHOLDER.match(s) else s


def _first(params: dict, keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = _clean(params.get(k))
        if v is not None:
            return v
    return None


def instant(v: object) -> datetime | None:
    """`event_timestamp`: epoch seconds (with decimals) or ISO 8601 (no offset = UTC), within
    the supported years."""
    if v in (None, ""):
        return None
    try:
        ts = datetime.fromtimestamp(float(Decimal(str(v))), UTC)
    except (InvalidOperation, ValueError, OverflowError, OSError):
        try:
            ts = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except ValueError:
            raise BadEvent("event_timestamp is neither epoch seconds nor ISO 8601:"
                           f" {str(v)[:40]!r}") from None
        ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    if not MIN_YEAR <= ts.astimezone(UTC).year <= MAX_YEAR:
        raise BadEvent(f"event_timestamp outside the supported years {MIN_YEAR}-{MAX_YEAR}:"
                       f" {str(v)[:40]!r}")
    return ts


def _name(v: object) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("event_name is missing")
    return v.strip()


def _params(v: object) -> dict:
    """An object, the same as a JSON text (`%event_params[JSON]%` pasted as a string), or
    nothing ({})."""
    if isinstance(v, str):
        try:
            v = json.loads(v) if v.strip() else {}
        except json.JSONDecodeError:
            raise ValueError("params is a string but not JSON") from None
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ValueError("params must be an object")
    return v


def _event_id(v: object) -> int | None:
    if v in (None, ""):
        return None
    try:
        eid = int(str(v))
    except ValueError:
        raise ValueError(f"event_id is not an integer: {str(v)[:30]!r}") from None
    if not -(2**63) <= eid < 2**63:
        raise ValueError(f"event_id out of range: {str(v)[:30]}")
    return eid


def _severity(v: object) -> int | None:
    if v in (None, ""):
        return None
    try:
        sev = int(str(v))
    except ValueError:
        sev = -1
    if not 0 <= sev <= 4:
        raise ValueError("event_severity must be 0-4 (0 = FATAL ... 4 = DEBUG)")
    return sev


def _timestamp(v: object) -> datetime | None:
    try:
        return instant(v)
    except BadEvent as exc:
        raise ValueError(str(exc)) from None


class Event(BaseModel):
    """One event object. Its other keys are ignored here, but they are part of the content
    that keys an event without an id. Fields are declared in the order their errors are
    reported; each error is a whole sentence that names its field."""

    model_config = ConfigDict(extra="ignore")

    event_name: Annotated[str, BeforeValidator(_name)]
    params: Annotated[dict, BeforeValidator(_params)] = Field(
        default_factory=dict, validation_alias=AliasChoices("params", "event_params"))
    event_id: Annotated[int | None, BeforeValidator(_event_id)] = None
    event_severity: Annotated[int | None, BeforeValidator(_severity)] = None
    event_timestamp: Annotated[datetime | None, BeforeValidator(_timestamp)] = None
    event_pbx_serial: Any = None
    tenant: Any = None
    unique_id: Any = None

    @model_validator(mode="after")
    def _member_named(self) -> Event:
        if self.event_name in MEMBER_EVENTS:
            _check_member_event(self.event_name, self.params, self.event_timestamp)
        return self


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "model_type":
        return "not a JSON object"
    if first["type"] == "missing":
        return f"{first['loc'][0]} is missing"
    return first["msg"].removeprefix("Value error, ")


def parse_event(ev: object) -> dict:
    """One event object -> a `pbx_events` row (params as a JSON string)."""
    try:
        e = Event.model_validate(ev)
    except ValidationError as exc:
        raise BadEvent(_reason(exc)) from None
    key = str(e.event_id) if e.event_id is not None else hashlib.sha256(
        json.dumps(ev, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    uid = _clean(e.params.get("unique_id", e.unique_id))
    return {"pbx_serial": str(e.event_pbx_serial or ""), "event_key": key,
            "event_id": e.event_id, "event_name": e.event_name, "severity": e.event_severity,
            "event_ts": e.event_timestamp,
            "tenant": str(e.tenant or e.params.get("tenant") or "default"),
            "unique_id": uid, "params": json.dumps(e.params, ensure_ascii=False)}


def _check_member_event(name: str, params: dict, ts: datetime | None) -> None:
    """A member event names its member, and its queue unless it is a pause; raises
    ValueError (in the Event model's check)."""
    if ts is None:
        raise ValueError(f"{name}: event_timestamp is missing")
    if _first(params, ACCOUNT_KEYS) is None and _first(params, EXTEN_KEYS) is None:
        raise ValueError(f"{name}: no member (params member_account or member_exten)")
    if MEMBER_EVENTS[name] in ("added", "removed") and (
            _first(params, QUEUE_KEYS) is None and _first(params, QUEUE_NAME_KEYS) is None):
        raise ValueError(f"{name}: no queue (params queue or queue_name)")


# ---------------------------------------------------------------------------- event-log file

def is_event_log(path: Path) -> bool:
    """JSON lines whose first object has an `event_name` (a CDR JSON has call objects). Reads
    at most 64 KiB: a CDR export on one long line is never read whole here."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    line, nl, _rest = text.partition("\n")
    if not nl and len(head) == 65536:
        return False
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(obj, dict) and "event_name" in obj


_COLS = ("pbx_serial", "event_key", "event_id", "event_name", "severity", "event_ts", "tenant",
         "unique_id", "params")
def _schema():
    import pyarrow as pa  # loaded with the first event log

    return pa.schema([("pbx_serial", pa.string()), ("event_key", pa.string()),
                      ("event_id", pa.int64()), ("event_name", pa.string()),
                      ("severity", pa.int16()), ("event_ts", pa.timestamp("us", tz="UTC")),
                      ("tenant", pa.string()), ("unique_id", pa.string()),
                      ("params", pa.string()), ("line", pa.int64())])


def load_file(con: duckdb.DuckDBPyConnection, path: Path, result: FileResult, sha: str,
              started: datetime, timer: loader.Timer) -> None:
    """An event log (JSON lines) -> pbx_events, one transaction (the agent activity facts
    follow in the pipeline's activity step).
    A line that is not a valid event is quarantined with its line number and the reason; an
    event already stored (same serial and id, or same content without id) is a duplicate."""
    result.format = FORMAT
    rows: list[dict] = []
    rejects: list[tuple[int, str, str]] = []
    seen: set[tuple[str, str]] = set()
    dup_in_file = 0
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                row = parse_event(json.loads(text))
            except json.JSONDecodeError as exc:
                rejects.append((n, text, f"invalid JSON: {exc.msg} at column {exc.colno}"))
                continue
            except BadEvent as exc:
                rejects.append((n, text, str(exc)))
                continue
            k = (row["pbx_serial"], row["event_key"])
            if k in seen:
                dup_in_file += 1
                continue
            seen.add(k)
            row["line"] = n
            rows.append(row)
    result.rows_read = len(rows) + len(rejects) + dup_in_file
    parse_s = timer.lap()
    result.batch_id = loader.begin_batch(con)
    import pyarrow as pa

    ev_rows = pa.Table.from_pylist(rows, schema=_schema())  # noqa: F841 (DuckDB scans it by name)
    cols = ", ".join(_COLS)
    new = con.execute(
        f"INSERT INTO pbx_events ({cols}, received_at, batch_id)"  # noqa: S608 -- names and SQL fragments from code; values bound
        f" SELECT {', '.join('params::JSON' if c == 'params' else c for c in _COLS)}, ?, ?"
        " FROM ev_rows ON CONFLICT DO NOTHING RETURNING 1",
        [datetime.now(UTC), result.batch_id]).fetchall()
    result.rows_loaded = len(new)
    result.rows_duplicate = len(rows) - len(new) + dup_in_file
    if rejects:
        con.executemany(
            "INSERT INTO quarantine (batch_id, source, line, record, raw, reason)"
            " VALUES (?, ?, ?, NULL, ?, ?)",
            [[result.batch_id, str(path), n, raw[:100_000], reason] for n, raw, reason in rejects])
    result.rows_quarantined = len(rejects)
    loader.finish_batch(con, result, sha=sha, started=started, parse_s=parse_s,
                        load_s=timer.lap())
