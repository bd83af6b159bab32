"""Loads one parsed batch into the store: one transaction per batch.

The batch's provenance row, its facts and its quarantine rows commit together or not at all,
so a killed ingest leaves the store as it was before that file and a rerun completes it.
Idempotency is by natural key (tenant, unique_id, leg_branch) and content hash: a call already
stored with the same content is a duplicate; with other content the newer load replaces it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pbxlens.ingest import batch_ids, sniff

CALL_COLUMNS = (
    "tenant", "unique_id", "leg_branch", "unique_epoch", "source_type", "destination_type",
    "status", "status_raw", "start_ts", "start_local", "channel_up_ts", "answer_ts", "end_ts", "answered_by",
    "caller", "caller_name", "caller_anonymous", "called", "gateway_name", "account_code",
    "duration_s", "bill_s", "src_peer_name", "src_ip", "src_port", "src_extension",
    "direction", "path_len", "path_incomplete", "content_hash", "path_hash", "batch_id", "extra",
)
LEG_COLUMNS = (
    "tenant", "unique_id", "leg_branch", "seq", "source_num", "source_anonymous", "dest_type",
    "dest_id", "dest_name", "dest_num", "enter_ts", "enqueue_ts", "answer_ts", "exit_ts",
    "exit_cause", "exit_cause_raw", "answered_by", "waiting_s", "mapped_source_num",
    "mapped_dst_num", "account_code", "checktime_in_hours", "batch_id",
)


@dataclass
class FileResult:
    path: str
    format: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    calls_loaded: int = 0
    batch_id: int | None = None
    skipped: str | None = None
    error: str | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def public(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        return {k: v for k, v in d.items() if v is not None}


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file's bytes (taken by the run's detection when it read them all)."""
    known = sniff.run_sha256(path)
    if known is not None:
        return known
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def already_loaded(con: duckdb.DuckDBPyConnection, sha: str) -> tuple[int, int, str] | None:
    """(batch_id, rows_read, format) of the batch that already loaded these exact bytes."""
    row = con.execute(
        "SELECT batch_id, rows_read, format FROM ingest_batches WHERE sha256 = ?"
        " ORDER BY batch_id LIMIT 1",
        [sha],
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def begin_batch(con: duckdb.DuckDBPyConnection) -> int:
    """Open the batch's transaction; its id is in flight until `finish_batch` (or the file's
    error path) calls `batch_ids.done`."""
    con.execute("BEGIN TRANSACTION")
    return batch_ids.take(con)


def finish_batch(
    con: duckdb.DuckDBPyConnection, result: FileResult, *, sha: str, started: datetime,
    parse_s: float, load_s: float,
) -> None:
    con.execute(
        "INSERT INTO ingest_batches (batch_id, source, sha256, format, rows_read, rows_loaded,"
        " rows_duplicate, rows_quarantined, calls_loaded, started_at, finished_at, parse_s, load_s)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [result.batch_id, result.path, sha, result.format, result.rows_read, result.rows_loaded,
         result.rows_duplicate, result.rows_quarantined, result.calls_loaded, started,
         datetime.now(UTC), parse_s, load_s],
    )
    con.execute("COMMIT")
    batch_ids.done(result.batch_id)


def quarantine(con: duckdb.DuckDBPyConnection, batch_id: int, source: str) -> int:
    """stage_rejects -> quarantine; returns the number of rows quarantined."""
    con.execute(
        "INSERT INTO quarantine (batch_id, source, line, record, raw, reason)"
        " SELECT ?, ?, _line, _rec, raw, reason FROM stage_rejects ORDER BY _rec, _line",
        [batch_id, source],
    )
    return con.execute("SELECT count(*) FROM stage_rejects").fetchone()[0]


# Asterisk sources loaded in different runs (asterisk.py's merge rule across runs): a call's
# fields come from Master.csv, its path from queue_log, whichever arrives first. Markers: the
# format of the batch that stored the call row, and `extra.queue_log_legs` once merged.
_MASTER, _QLOG = "asterisk_master_csv", "asterisk_queue_log"
_MASTER_FIELDS = (f"(c.format = '{_MASTER}' OR "
                  "json_extract_string(c.extra, '$.queue_log_legs') = 'true')")
_QLOG_LEGS = (f"(c.format = '{_QLOG}' OR json_extract_string(c.extra, '$.queue_log_callid') "
              "IS NOT NULL OR json_extract_string(c.extra, '$.queue_log_legs') = 'true')")
_MERGED = """json_merge_patch(coalesce({x}, '{{}}'::JSON), '{{"queue_log_legs": true}}')"""

# Turned off by the tests that compare both paths: every batch takes the general path.
FAST_PATH = True


def load_cdr(con: duckdb.DuckDBPyConnection, batch_id: int, *, has_detail: bool,
             fmt: str | None = None) -> dict[str, int]:
    """Upsert stage_calls / stage_legs into calls / call_legs. Returns row and call counts.

    Row counts are in file records: rows for CSV/XLSX (detail lines of a detailed export),
    call objects for JSON/XML; so that read = loaded + duplicate + quarantined.

    Fast path: when no call of the batch is stored yet (found through the zone maps of
    `calls.unique_epoch`, so only the stored calls of the batch's time span are looked at), the
    batch is appended as it is: no join against the store, no DELETE. Otherwise each call is
    classified new / duplicate / changed against the stored calls of that span; a changed call
    is replaced and noted in `replaced_calls` (with the day it held) for the post-batch steps.
    """
    stored = _stored_matches(con)
    if stored == 0 and FAST_PATH:
        return _append(con, batch_id, has_detail=has_detail)
    _classify(con, has_detail=has_detail, fmt=fmt)
    _replace_changed(con, batch_id, has_detail=has_detail, fmt=fmt)
    _insert_classified(con, batch_id, has_detail=has_detail)
    counts = con.execute("""
    SELECT coalesce(sum(CASE WHEN k.cls <> 'dup' THEN greatest(s.n_records, 1) END), 0),
      coalesce(sum(CASE WHEN k.cls = 'dup' THEN greatest(s.n_records, 1) END), 0),
      count(*) FILTER (WHERE k.cls <> 'dup')
    FROM stage_class k JOIN stage_calls s USING (tenant, unique_id, leg_branch)
    """).fetchone()
    return {"rows_loaded": int(counts[0]), "rows_duplicate": int(counts[1]),
            "calls_loaded": int(counts[2])}


def _stored_matches(con: duckdb.DuckDBPyConnection) -> int:
    """stage_old: the stored calls with a key of this batch; returns how many. Only the row
    groups of `calls` whose unique_epoch range meets the batch's are read (a key's epoch is a
    function of its unique_id); calls with no epoch (a non-numeric unique_id) are few."""
    lo, hi, no_epoch = con.execute(
        "SELECT min(unique_epoch), max(unique_epoch), bool_or(unique_epoch IS NULL)"
        " FROM stage_calls").fetchone()
    span = "SELECT * FROM calls WHERE unique_epoch BETWEEN $lo AND $hi"
    if no_epoch:
        span += " UNION ALL SELECT * FROM calls WHERE unique_epoch IS NULL"
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE stage_old AS
    SELECT c.tenant, c.unique_id, c.leg_branch, c.content_hash, c.path_hash, c.path_len,
        CAST(c.start_local AS DATE) AS day, c.extra, b.format
    FROM ({span}) c
    SEMI JOIN stage_calls s ON s.tenant = c.tenant AND s.unique_id = c.unique_id
        AND s.leg_branch = c.leg_branch
    LEFT JOIN ingest_batches b ON b.batch_id = c.batch_id
    """, {"lo": lo, "hi": hi})  # noqa: S608 -- names and SQL fragments from code; values bound
    return con.execute("SELECT count(*) FROM stage_old").fetchone()[0]


def _call_select(*, has_detail: bool, classified: bool) -> str:
    """The SELECT list of a calls row from stage_calls `s` (and, for a classified batch,
    stage_class `k`). A summary export carries no path: a call it replaces keeps the path
    already stored (so does a Master.csv over a queue_log path)."""
    path_hash = "coalesce(s.path_hash, 0)" if has_detail else "NULL"
    path_len, extra = "s.path_len", "s.extra"
    if classified:
        keep_path = "k.keep_legs" if has_detail else "k.old_path_len IS NOT NULL"
        path_len = f"CASE WHEN {keep_path} THEN k.old_path_len ELSE s.path_len END"
        path_hash = f"CASE WHEN {keep_path} THEN k.old_path_hash ELSE {path_hash} END"
        extra = f"CASE WHEN k.keep_legs THEN {_MERGED.format(x='s.extra')} ELSE s.extra END"
    return f"""s.tenant, s.unique_id, s.leg_branch, s.unique_epoch, s.source_type,
        s.destination_type, s.status, s.status_raw, s.start_ts, s.start_local, s.channel_up_ts,
        s.answer_ts, s.end_ts, s.answered_by, s.caller, s.caller_name, s.caller_anonymous,
        s.called, s.gateway_name, s.account_code, s.duration_s, s.bill_s, s.src_peer_name,
        s.src_ip, s.src_port, s.src_extension, s.direction, {path_len}, s.path_incomplete,
        s.call_hash, {path_hash}, $batch, {extra}"""


_LEG_SELECT = """l.tenant, l.unique_id, k.leg_branch, (l._row - k.first_row + 1)::INTEGER,
    l.source_num, l.source_anonymous, l.dest_type, l.dest_id, l.dest_name, l.dest_num,
    l.enter_ts, l.enqueue_ts, l.answer_ts, l.exit_ts, l.exit_cause, l.exit_cause_raw,
    l.answered_by, l.waiting_s, l.mapped_source_num, l.mapped_dst_num, l.account_code,
    l.checktime_in_hours, $batch"""


def _append(con: duckdb.DuckDBPyConnection, batch_id: int, *, has_detail: bool) -> dict[str, int]:
    """The fast path: every call of the batch is new."""
    con.execute(f"INSERT INTO calls ({', '.join(CALL_COLUMNS)})"  # noqa: S608 -- names and SQL fragments from code; values bound
                f" SELECT {_call_select(has_detail=has_detail, classified=False)}"
                " FROM stage_calls s", {"batch": batch_id})
    if has_detail:
        con.execute(f"INSERT INTO call_legs ({', '.join(LEG_COLUMNS)}) SELECT {_LEG_SELECT}"  # noqa: S608 -- names and SQL fragments from code; values bound
                    " FROM stage_legs l JOIN stage_calls k USING (tenant, unique_id, group_hash)",
                    {"batch": batch_id})
    rows, calls = con.execute(
        "SELECT coalesce(sum(greatest(n_records, 1)), 0), count(*) FROM stage_calls").fetchone()
    return {"rows_loaded": int(rows), "rows_duplicate": 0, "calls_loaded": int(calls)}


def _classify(con: duckdb.DuckDBPyConnection, *, has_detail: bool, fmt: str | None) -> None:
    """stage_class: each call of the batch as new, dup or changed against stage_old. `fmt`
    (the reader's format) enables the Asterisk precedence: a queue_log replaces only the path
    of a call Master.csv stored (`legs_only`); a Master.csv replaces only the fields of a call
    whose path came from a queue_log (`keep_legs`)."""
    detail = "true" if has_detail else "false"
    legs_only = f"(c.unique_id IS NOT NULL AND {_MASTER_FIELDS})" if fmt == _QLOG else "false"
    keep_legs = f"(c.unique_id IS NOT NULL AND {_QLOG_LEGS})" if fmt == _MASTER else "false"
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE stage_class AS
    SELECT s.tenant, s.unique_id, s.leg_branch, s.group_hash, s.first_row,
        CASE WHEN c.unique_id IS NULL THEN 'new'
             WHEN {legs_only} THEN CASE WHEN c.path_hash IS NOT DISTINCT FROM s.path_hash
                                        THEN 'dup' ELSE 'changed' END
             WHEN {keep_legs} THEN CASE WHEN c.content_hash = s.call_hash
                                        THEN 'dup' ELSE 'changed' END
             WHEN c.content_hash = s.call_hash
                  AND (NOT {detail} OR c.path_hash IS NOT DISTINCT FROM s.path_hash) THEN 'dup'
             ELSE 'changed' END AS cls,
        coalesce({legs_only}, false) AS legs_only, coalesce({keep_legs}, false) AS keep_legs,
        c.path_len AS old_path_len, c.path_hash AS old_path_hash, c.day AS old_day
    FROM stage_calls s
    LEFT JOIN stage_old c ON c.tenant = s.tenant AND c.unique_id = s.unique_id
        AND c.leg_branch = s.leg_branch
    """)  # noqa: S608 -- names and SQL fragments from code; values bound


def _replace_changed(con: duckdb.DuckDBPyConnection, batch_id: int, *, has_detail: bool,
                     fmt: str | None) -> None:
    """Remove the stored rows the changed calls replace (a queue_log over a Master.csv call
    updates its path fields instead), and note each changed call in replaced_calls. The
    DELETEs are bounded by the changed keys' unique_id range, so zone maps skip the rest."""
    if not con.execute("SELECT count(*) FROM stage_class WHERE cls = 'changed'").fetchone()[0]:
        return
    con.execute("INSERT INTO replaced_calls (batch_id, tenant, unique_id, leg_branch, old_day)"
                " SELECT $batch, tenant, unique_id, leg_branch, old_day FROM stage_class"
                " WHERE cls = 'changed'", {"batch": batch_id})
    lo, hi = con.execute("SELECT min(unique_id), max(unique_id) FROM stage_class"
                         " WHERE cls = 'changed'").fetchone()
    span = {"lo": lo, "hi": hi}
    if fmt == _QLOG:
        con.execute(f"""
        UPDATE calls SET batch_id = $batch, path_len = s.path_len,
            path_hash = coalesce(s.path_hash, 0), extra = {_MERGED.format(x='calls.extra')}
        FROM stage_class k, stage_calls s
        WHERE k.cls = 'changed' AND k.legs_only AND calls.tenant = k.tenant
          AND calls.unique_id = k.unique_id AND calls.leg_branch = k.leg_branch
          AND s.tenant = k.tenant AND s.unique_id = k.unique_id
          AND s.leg_branch = k.leg_branch AND calls.unique_id BETWEEN $lo AND $hi
        """, {"batch": batch_id, **span})  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute("""
    DELETE FROM calls c USING stage_class k
    WHERE k.cls = 'changed' AND NOT k.legs_only AND c.tenant = k.tenant
      AND c.unique_id = k.unique_id AND c.leg_branch = k.leg_branch
      AND c.unique_id BETWEEN $lo AND $hi
    """, span)
    if has_detail:
        con.execute("""
        DELETE FROM call_legs l USING stage_class k
        WHERE k.cls = 'changed' AND NOT k.keep_legs AND l.tenant = k.tenant
          AND l.unique_id = k.unique_id AND l.leg_branch = k.leg_branch
          AND l.unique_id BETWEEN $lo AND $hi
        """, span)


def _insert_classified(con: duckdb.DuckDBPyConnection, batch_id: int, *,
                       has_detail: bool) -> None:
    """Insert the new and changed calls (and their paths) of stage_class."""
    con.execute(f"""
    INSERT INTO calls ({', '.join(CALL_COLUMNS)})
    SELECT {_call_select(has_detail=has_detail, classified=True)}
    FROM stage_calls s JOIN stage_class k USING (tenant, unique_id, leg_branch)
    WHERE k.cls <> 'dup' AND NOT k.legs_only
    ORDER BY s.first_row
    """, {"batch": batch_id})  # noqa: S608 -- names and SQL fragments from code; values bound
    if has_detail:
        con.execute(f"""
        INSERT INTO call_legs ({', '.join(LEG_COLUMNS)})
        SELECT {_LEG_SELECT}
        FROM stage_legs l JOIN stage_class k USING (tenant, unique_id, group_hash)
        WHERE k.cls <> 'dup' AND NOT k.keep_legs
        """, {"batch": batch_id})  # noqa: S608 -- names and SQL fragments from code; values bound


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def lap(self) -> float:
        t = time.perf_counter()
        dt, self.t0 = t - self.t0, t
        return dt
