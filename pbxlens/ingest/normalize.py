"""SQL that turns `raw_rows` (text, as read) into normalized staged calls, legs and rejects.

Everything runs as set-based SQL in DuckDB, as a pipeline of named steps (`STEPS`): parsing
of instants and durations, validation with a reason per row (`parse`: the one scan of the
file, into the typed temp table `norm_rows`), vocabulary mapping (`map_vocabulary`), the
rejects (`collect_rejects`), and the grouping of detail rows into calls and paths
(`group_calls`). Output temp tables/views: `stage_calls`, `stage_legs`, `stage_rejects`.

`norm_rows` is a temp table: typed values (instants, decimals) are narrower than the text they
come from, and DuckDB spills a temp table's blocks to its temp directory beyond the memory
limit. Row order: the table is written in file order, so a CSV row's index in the file (after
the lines the reader rejected) is its `rowid`: no window over the whole scan, which would run
on one thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb

from pbxlens.models import timezone, vocabulary

_MACROS = r"""
CREATE OR REPLACE TEMP MACRO pbx_blank(s) AS (s IS NULL OR trim(s) = '');
-- Readers hand over stripped text (DuckDB's CSV reader, Python readers strip): no trim here.
CREATE OR REPLACE TEMP MACRO pbx_txt(s) AS nullif(s, '');
-- A wall-clock time as written by the PBX (no offset): naive local TIMESTAMP.
CREATE OR REPLACE TEMP MACRO pbx_local(s) AS CASE
    WHEN s IS NULL OR length(s) < 10 THEN NULL::TIMESTAMP
    WHEN length(s) <= 19 OR (length(s) <= 26 AND substr(s, 20, 1) = '.')
        THEN coalesce(TRY_CAST(s AS TIMESTAMP),
            try_strptime(trim(s), ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d-%m-%Y %H:%M:%S',
                                   '%Y/%m/%d %H:%M:%S', '%d/%m/%Y %H:%M:%S.%f']))
    ELSE NULL::TIMESTAMP
END;
-- An instant that carries its own zone (ISO 8601 offset, Z) or an epoch: TIMESTAMPTZ.
CREATE OR REPLACE TEMP MACRO pbx_abs(s) AS CASE
    WHEN s IS NULL OR trim(s) = '' THEN NULL::TIMESTAMPTZ
    WHEN regexp_full_match(trim(s), '\d{9,10}(\.\d+)?')
        THEN to_timestamp(TRY_CAST(trim(s) AS DOUBLE))
    WHEN length(trim(s)) > 16 AND (right(trim(s), 1) = 'Z'
            OR substr(trim(s), -6, 1) IN ('+', '-') OR substr(trim(s), -5, 1) IN ('+', '-'))
        THEN try_strptime(regexp_replace(trim(s), 'Z$', '+00:00'),
            ['%Y-%m-%dT%H:%M:%S%z', '%Y-%m-%dT%H:%M:%S.%f%z',
             '%Y-%m-%d %H:%M:%S%z', '%Y-%m-%d %H:%M:%S.%f%z'])
    ELSE NULL::TIMESTAMPTZ
END;
CREATE OR REPLACE TEMP MACRO pbx_hms(s) AS
    regexp_extract(trim(s), '^(-?)(?:(\d+)\s*(?:gg|g|d|days?)\s+)?(\d+):(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)$',
                   ['sign', 'd', 'h', 'm', 's']);
CREATE OR REPLACE TEMP MACRO pbx_dur_hms(s) AS CASE
    WHEN pbx_hms(s).h = '' THEN NULL::DECIMAL(18, 3)
    ELSE (CASE WHEN pbx_hms(s).sign = '-' THEN -1 ELSE 1 END) * (
        coalesce(TRY_CAST(nullif(pbx_hms(s).d, '') AS BIGINT), 0) * 86400
        + CAST(pbx_hms(s).h AS BIGINT) * 3600 + CAST(pbx_hms(s).m AS BIGINT) * 60
        + CAST(replace(pbx_hms(s).s, ',', '.') AS DECIMAL(18, 3)))::DECIMAL(18, 3)
END;
-- h:mm:ss first (DuckDB reads it as an interval): a failing TRY_CAST to DECIMAL costs more
-- than the pattern test, and no h:mm:ss text is a number. A blank text needs no test of its
-- own (every branch reads it as NULL; a trim per value cost more than the rest), and each
-- cast runs once (coalesce evaluates an argument only where the ones before it are NULL).
CREATE OR REPLACE TEMP MACRO pbx_dur(s) AS CASE
    WHEN s IS NULL THEN NULL::DECIMAL(18, 3)
    WHEN regexp_full_match(s, '\d{1,3}:\d{2}:\d{2}')
        THEN epoch(TRY_CAST(s AS INTERVAL))::DECIMAL(18, 3)
    ELSE coalesce(TRY_CAST(s AS DECIMAL(18, 3)),
                  TRY_CAST(replace(trim(s), ',', '.') AS DECIMAL(18, 3)), pbx_dur_hms(s))
END;
CREATE OR REPLACE TEMP MACRO pbx_bool_any(s) AS CASE lower(trim(s))
    WHEN '1' THEN true WHEN 'true' THEN true WHEN 'yes' THEN true WHEN 'si' THEN true
    WHEN 'sì' THEN true WHEN 'y' THEN true WHEN 't' THEN true
    WHEN '0' THEN false WHEN 'false' THEN false WHEN 'no' THEN false WHEN 'n' THEN false
    WHEN 'f' THEN false ELSE NULL END;
-- the PBX's own spellings ('0', '1', blank) first: no lower/trim for them
CREATE OR REPLACE TEMP MACRO pbx_bool(s) AS CASE s
    WHEN '0' THEN false WHEN '1' THEN true WHEN '' THEN NULL ELSE pbx_bool_any(s) END;
"""

# Longest accepted call: a call (or a CDR value) beyond a week is a corrupt value, not a call.
MAX_SECONDS = 7 * 86400
# Pre-4.5.11 firmware wrote small negative bill times for failed calls (#5644, e.g. -0.121).
BILL_NEGATIVE_TOLERANCE = 5
# Supported instants: a date before 1990 or after 2100 is a corrupt value, not a call (and the
# time-zone arithmetic is built only for the years in between).
MIN_YEAR, MAX_YEAR = 1990, 2100


def out_of_range_sql(field: str, instant: str, raw: str) -> str:
    """A reason when the instant `instant` (TIMESTAMPTZ) of `field` lies outside the supported
    years, quoting the raw value `raw`."""
    return (f"CASE WHEN {instant} < TIMESTAMPTZ '{MIN_YEAR}-01-01 00:00:00+00'"
            f" OR {instant} >= TIMESTAMPTZ '{MAX_YEAR + 1}-01-01 00:00:00+00'"
            f" THEN '{field} outside the supported years {MIN_YEAR}-{MAX_YEAR} '"
            f" || to_json(trim({raw}))::TEXT END")

TS_FIELDS = ("start_datetime", "channel_up_datetime", "answer_datetime", "end_datetime")
DETAIL_TS = ("detail_enter_datetime", "detail_enqueue_datetime", "detail_answer_datetime",
             "detail_exit_datetime")
DETAIL_TEXT = ("detail_source_num", "detail_destination_type", "detail_destination_id",
               "detail_destination_name", "detail_destination_num", "detail_exit_cause",
               "detail_answered_by", "detail_waiting_time", "detail_mapped_source_num",
               "detail_mapped_dst_num", "detail_account_code", "detail_source_anonymous",
               "detail_checktime_in_hours", *DETAIL_TS)

CALL_HASH_COLUMNS = (
    "tenant", "unique_id", "source_type", "destination_type", "status", "start_ts",
    "channel_up_ts", "answer_ts", "end_ts", "answered_by", "caller", "caller_name",
    "caller_anonymous", "called", "gateway_name", "account_code", "duration_s", "bill_s",
    "src_peer_name", "src_ip", "src_port", "src_extension",
)
LEG_COLUMNS = (
    "source_num", "source_anonymous", "dest_type", "dest_id", "dest_name", "dest_num",
    "enter_ts", "enqueue_ts", "answer_ts", "exit_ts", "exit_cause", "exit_cause_raw",
    "answered_by", "waiting_s", "mapped_source_num", "mapped_dst_num", "account_code",
    "checktime_in_hours",
)
# Rows of one call (or one click2call branch) share these: the grouping key. The raw forms of
# end, duration, bill time and source address: the call's own values are computed from them
# once per call (`_CALL_VALUES`).
GROUP_COLUMNS = (
    "tenant", "unique_id", "source_type", "destination_type", "status", "start_ts",
    "channel_up_ts", "answer_ts", "end_ts_raw", "answered_by", "caller", "caller_name",
    "caller_anonymous", "called", "gateway_name", "account_code", "duration_d", "bill_d",
    "src_peer_name", "src_ip_port", "src_extension",
)

SCRATCH = ("norm_rows", "norm", "good", "vmap", "stage_legs", "stage_calls", "stage_old",
           "stage_class", "stage_rejects")


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the parsing macros and the vocabulary table on this connection (idempotent)."""
    con.execute(_MACROS)
    con.execute("CREATE OR REPLACE TEMP TABLE vocab (scope TEXT, key TEXT, code TEXT)")
    con.executemany("INSERT INTO vocab VALUES (?, ?, ?)", vocabulary.alias_rows())


def years_in(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """The span of years of the batch's start times (raw_rows must be cheap to scan)."""
    lo, hi = con.execute(
        "SELECT min(year(pbx_local(start_datetime))), max(year(pbx_local(start_datetime)))"
        " FROM raw_rows"
    ).fetchone()
    return clamp_years(lo, hi)


def clamp_years(lo: int | None, hi: int | None) -> tuple[int, int]:
    this = date.today().year
    lo = min(max(lo or this, 1990), 2100)
    hi = max(min(hi or this, 2100), lo)
    return lo, hi


def stage(con: duckdb.DuckDBPyConnection, *, tz: str, years: tuple[int, int],
          default_tenant: str = "default", after_norm: Callable[[], None] | None = None,
          null_columns: tuple[str, ...] = ()) -> None:
    """raw_rows -> norm -> stage_calls, stage_legs, stage_rejects (temp tables and views).

    raw_rows may be a view over DuckDB's CSV reader: it is scanned exactly once, by `parse`;
    `after_norm` runs right after that scan (the CSV reader's own rejects are known then).
    `null_columns`: the raw_rows columns the reader leaves NULL on every row.
    """
    parse(con, tz=tz, years=years, default_tenant=default_tenant, null_columns=null_columns)
    if after_norm:
        after_norm()
    for step in STEPS:
        step(con)


# ------------------------------------------------------------------------------- parse
def _bad_ts(f: str) -> str:
    # the blank test (a trim) only where the value did not parse: an AND in a CASE condition
    # evaluates its second term on the rows the first one kept
    return (f"CASE WHEN p_{f} IS NULL AND NOT pbx_blank({f})"
            f" THEN 'unparsable {f} ' || to_json(trim({f}))::TEXT END")


def _checks_sql() -> str:
    """The reason a row is rejected: every failed check, joined with '; '."""
    checks = [
        # a value that parsed is not blank: the blank test only where it did not
        "CASE WHEN unique_epoch IS NULL AND pbx_blank(unique_id) THEN 'missing unique_id' END",
        "CASE WHEN p_start_datetime IS NULL AND pbx_blank(start_datetime)"
        " THEN 'missing start_datetime' END",
        "CASE WHEN pbx_blank(status) THEN 'missing status' END",
        *(_bad_ts(f) for f in TS_FIELDS + DETAIL_TS),
        *(out_of_range_sql(f, f"p_{f}", f) for f in TS_FIELDS + DETAIL_TS),
        "CASE WHEN p_duration IS NULL AND NOT pbx_blank(duration)"
        " THEN 'unparsable duration ' || to_json(trim(duration))::TEXT"
        " WHEN p_duration < 0 THEN 'negative duration ' || to_json(trim(duration))::TEXT"
        f" WHEN p_duration > {MAX_SECONDS}"
        " THEN 'absurd duration (over 7 days) ' || to_json(trim(duration))::TEXT END",
        "CASE WHEN p_bill_secs IS NULL AND NOT pbx_blank(bill_secs)"
        " THEN 'unparsable bill_secs ' || to_json(trim(bill_secs))::TEXT"
        f" WHEN p_bill_secs < -{BILL_NEGATIVE_TOLERANCE}"
        " THEN 'negative bill_secs ' || to_json(trim(bill_secs))::TEXT"
        f" WHEN p_bill_secs > {MAX_SECONDS}"
        " THEN 'absurd bill_secs (over 7 days) ' || to_json(trim(bill_secs))::TEXT END",
        "CASE WHEN p_detail_waiting_time IS NULL AND NOT pbx_blank(detail_waiting_time)"
        " THEN 'unparsable detail_waiting_time ' || to_json(trim(detail_waiting_time))::TEXT"
        " WHEN p_detail_waiting_time < 0 THEN 'negative detail_waiting_time' END",
        "CASE WHEN p_end_datetime < p_start_datetime THEN 'end_datetime before start_datetime' END",
    ]
    return f"nullif(concat_ws('; ', {', '.join(checks)}), '')"


def _instants_sql(tz: str, y0: int, y1: int) -> tuple[str, str, str]:
    """(local, instants, later): the SELECT lists that read wall-clock text as local
    timestamps and durations, turn them into instants, and settle the autumn fold."""
    local = ", ".join(
        [f"pbx_local({f}) AS l_{f}" for f in TS_FIELDS + DETAIL_TS]
        + [f"pbx_dur({f}) AS p_{f}" for f in ("duration", "bill_secs", "detail_waiting_time")]
    )
    instants = ", ".join(
        f"CASE WHEN l_{f} IS NOT NULL THEN {timezone.utc_sql(f'l_{f}', tz, y0, y1)}"
        f" ELSE pbx_abs({f}) END AS p_{f}, {timezone.fold_sql(f'l_{f}', tz, y0, y1)} AS fold_{f}"
        for f in TS_FIELDS + DETAIL_TS
    )
    # Autumn fold: the start takes the reading its unique_id (start epoch, UTC) agrees with;
    # any other ambiguous time of the call takes the earliest reading not before the start.
    later = ", ".join(
        f"CASE WHEN fold_{f} > 0 AND p_{f} - to_seconds(fold_{f}) >= p_start_datetime"
        f" THEN p_{f} - to_seconds(fold_{f}) ELSE p_{f} END AS p_{f}"
        for f in TS_FIELDS[1:] + DETAIL_TS
    )
    return local, instants, later


# The typed columns that come from a raw column alone, by raw name: left out of norm_rows when
# the reader leaves that raw column NULL on every row (`norm` gives them back).
_NULL_TYPED = {"_row": ("_row", "rowid"), "_rec": ("_rec", "NULL::BIGINT"),
               "_line": ("_line", "NULL::BIGINT"), "_extra": ("extra", "NULL::TEXT")}


def _columns_sql(null_columns: tuple[str, ...] = ()) -> str:
    """The typed columns of one row: the call's fields (raw where the call's own value is
    computed per call) and the path line's; none of those `null_columns` alone make."""
    left_out = {_NULL_TYPED[c][0] for c in null_columns}
    return ",\n        ".join(e for e in _typed_columns() if e.split(" AS ")[-1] not in left_out)


def _norm_view_sql(null_columns: tuple[str, ...]) -> str:
    """`norm`: norm_rows with every typed column, in order; a CSV row's index (its position
    among the rows the reader kept) is the table's rowid."""
    given = {_NULL_TYPED[c][0]: _NULL_TYPED[c][1] for c in null_columns}
    given.setdefault("_row", "coalesce(_row, rowid)")
    names = [e.split(" AS ")[-1] for e in _typed_columns()]
    return ("SELECT " + ", ".join(f"{given[n]} AS {n}" if n in given else n for n in names)  # noqa: S608 -- names and SQL fragments from code; values bound
            + ", group_hash FROM norm_rows")


def _typed_columns() -> list[str]:
    """The typed columns' expressions (see _columns_sql), each ending in its name."""
    has_leg = "coalesce(" + ", ".join(f"nullif({f}, '')" for f in DETAIL_TEXT) + ") IS NOT NULL"
    raw_struct = "to_json(struct_pack(" + ", ".join(
        f"{f} := {f}" for f in (
            "unique_id", "status", "start_datetime", "end_datetime", "duration", "bill_secs",
            "caller", "called", *DETAIL_TEXT)
    ) + "))::TEXT"
    txt = ("source_type", "destination_type", "status", "answered_by", "caller", "caller_name",
           "called", "gateway_name", "account_code", "src_peer_name", "src_ip_port",
           "src_extension")
    leg_txt = {"source_num": "detail_source_num", "dest_type": "detail_destination_type",
               "dest_id": "detail_destination_id", "dest_name": "detail_destination_name",
               "dest_num": "detail_destination_num", "exit_cause": "detail_exit_cause",
               "leg_answered_by": "detail_answered_by",
               "mapped_source_num": "detail_mapped_source_num",
               "mapped_dst_num": "detail_mapped_dst_num",
               "leg_account_code": "detail_account_code"}
    return [
        "_row", "_rec", "_line", "reason",
        f"CASE WHEN reason IS NOT NULL THEN {raw_struct} END AS raw_json",
        "coalesce(pbx_txt(tenant), $tenant) AS tenant", "trim(unique_id) AS unique_id",
        *(f"pbx_txt({c}) AS {c}" for c in txt),
        "p_start_datetime AS start_ts",
        "coalesce(l_start_datetime, timezone($tz, p_start_datetime)) AS start_local",
        "unique_epoch", "p_channel_up_datetime AS channel_up_ts",
        "p_answer_datetime AS answer_ts", "p_end_datetime AS end_ts_raw",
        "p_duration AS duration_d", "p_bill_secs AS bill_d",
        "pbx_bool(anonymous) AS caller_anonymous", "_extra AS extra",
        f"({has_leg}) AS has_leg",
        *(f"pbx_txt({src}) AS {c}" for c, src in leg_txt.items()),
        "pbx_bool(detail_source_anonymous) AS source_anonymous",
        "p_detail_enter_datetime AS enter_ts", "p_detail_enqueue_datetime AS enqueue_ts",
        "p_detail_answer_datetime AS leg_answer_ts", "p_detail_exit_datetime AS exit_ts",
        "p_detail_waiting_time::DECIMAL(10, 3) AS waiting_s",
        "pbx_bool(detail_checktime_in_hours) AS checktime_in_hours",
    ]


def parse(con: duckdb.DuckDBPyConnection, *, tz: str, years: tuple[int, int],
          default_tenant: str = "default", null_columns: tuple[str, ...] = ()) -> None:
    """raw_rows -> norm_rows: the one scan of the batch. Every value typed, every row with
    the reason it is rejected (NULL when good) and the hash of its call's fields."""
    local, instants, later = _instants_sql(tz, *years)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE norm_rows AS
    WITH parsed0 AS (
      SELECT r.*, {local},
          TRY_CAST(split_part(trim(r.unique_id), '.', 1) AS BIGINT) AS unique_epoch
      FROM raw_rows r
    ), parsed1 AS (
      SELECT *, {instants} FROM parsed0
    ), parsed2 AS (
      SELECT * REPLACE (CASE WHEN fold_start_datetime > 0 AND unique_epoch IS NOT NULL
            AND abs(epoch(p_start_datetime) - fold_start_datetime - unique_epoch)
                < abs(epoch(p_start_datetime) - unique_epoch)
          THEN p_start_datetime - to_seconds(fold_start_datetime)
          ELSE p_start_datetime END AS p_start_datetime)
      FROM parsed1
    ), parsed AS (
      SELECT * REPLACE ({later}) FROM parsed2
    ), checked AS (
      SELECT *, {_checks_sql()} AS reason FROM parsed
    ), typed AS (
      SELECT {_columns_sql(null_columns)}
      FROM checked
    )
    SELECT *, hash({', '.join(GROUP_COLUMNS)}) AS group_hash FROM typed
    """, {"tenant": default_tenant, "tz": tz})  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute(f"CREATE OR REPLACE TEMP VIEW norm AS {_norm_view_sql(null_columns)}")


# ----------------------------------------------------------------------- after the scan
VOCAB_COLUMNS = {
    "source_type": "endpoint_type",
    "destination_type": "endpoint_type",
    "status": "status",
    "dest_type": "endpoint_type",
    "exit_cause": "exit_cause",
}


def map_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """vmap(col, raw, code): the distinct spellings of this batch (read from `norm`, where the
    vocabulary columns are still raw text), normalized by the vocabulary module. Few values,
    so Python here is not a per-row loop."""
    con.execute("CREATE OR REPLACE TEMP TABLE vmap (col TEXT, raw TEXT, code TEXT)")
    rows = []
    for col, scope in VOCAB_COLUMNS.items():
        for (raw,) in con.execute(
                f"SELECT DISTINCT {col} FROM norm_rows WHERE {col} IS NOT NULL").fetchall():  # noqa: S608 -- names and SQL fragments from code; values bound
            rows.append((col, raw, vocabulary.normalize(scope, raw)))
    if rows:
        con.executemany("INSERT INTO vmap VALUES (?, ?, ?)", rows)


def _vmap(col: str, alias: str) -> str:
    return f"LEFT JOIN vmap v_{col} ON v_{col}.col = '{col}' AND v_{col}.raw = {alias}.{col}"


def collect_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """stage_rejects: the rows that failed a check and the lines the reader could not split.
    CSV rows carry only their row index; rejected ones get their record/line numbers here,
    shifted past the lines DuckDB's reader rejected before them (rej_steps)."""
    con.execute("""
    CREATE OR REPLACE TEMP TABLE stage_rejects AS
    SELECT coalesce(n._rec, n._row + 1 + coalesce(s.before, 0)) AS _rec,
           coalesce(n._line, n._row + 2 + coalesce(s.before, 0)) AS _line,
           n.raw_json AS raw, n.reason
    FROM (SELECT * FROM norm WHERE reason IS NOT NULL) n
    ASOF LEFT JOIN rej_steps s ON n._row >= s.k0
    UNION ALL BY NAME
    SELECT _rec, _line, raw, reason FROM raw_rejects
    """)
    con.execute("CREATE OR REPLACE TEMP VIEW good AS SELECT * FROM norm WHERE reason IS NULL")


def _mapped_rows() -> str:
    """The good rows with the path line's vocabulary applied (tiny joins)."""
    return f"""(SELECT g.*, coalesce(v_dest_type.code, g.dest_type) AS m_dest_type,
        coalesce(v_exit_cause.code, g.exit_cause) AS m_exit_cause
      FROM good g {_vmap('dest_type', 'g')} {_vmap('exit_cause', 'g')})"""  # noqa: S608 -- names and SQL fragments from code; values bound


def stage_legs(con: duckdb.DuckDBPyConnection) -> None:
    """stage_legs: the path lines of the good rows. A view: seq is given at insert time as the
    row's offset from its call's first row (the rows of a call are consecutive and in path
    order), so no window is needed."""
    con.execute(f"""
    CREATE OR REPLACE TEMP VIEW stage_legs AS
    SELECT tenant, unique_id, group_hash, _row, {', '.join(_LEG_SELECT)}
    FROM {_mapped_rows()} g
    WHERE g.has_leg
    """)  # noqa: S608 -- names and SQL fragments from code; values bound


# stage_legs' columns (LEG_COLUMNS) from the mapped rows.
_LEG_SELECT = (
    "source_num", "source_anonymous", "m_dest_type AS dest_type", "dest_id", "dest_name",
    "dest_num", "enter_ts", "enqueue_ts", "leg_answer_ts AS answer_ts", "exit_ts",
    "m_exit_cause AS exit_cause", "exit_cause AS exit_cause_raw",
    "leg_answered_by AS answered_by", "waiting_s", "mapped_source_num", "mapped_dst_num",
    "leg_account_code AS account_code", "checktime_in_hours",
)
# The same values for the path hash (exit_cause_raw is not part of it).
_LEG_HASH = ", ".join(e.split(" AS ")[0] for e in _LEG_SELECT if "exit_cause_raw" not in e)

# The call's own values from the raw forms its rows share: durations from the CDR's own
# fields; end from start + duration only when the export left it empty; bill time clamped at
# 0 (#5644); the source address split into IP and port.
_CALL_VALUES = r"""
    coalesce(end_ts_raw, start_ts + to_seconds(coalesce(floor(duration_d), 0)::BIGINT)) AS end_ts,
    coalesce(floor(duration_d)::INTEGER,
             (epoch(end_ts_raw) - epoch(start_ts))::INTEGER, 0) AS duration_s,
    greatest(coalesce(bill_d, 0), 0)::DECIMAL(12, 3) AS bill_s,
    nullif(regexp_extract(src_ip_port, '^\[?([0-9A-Fa-f:.]+?)\]?:(\d+)$', 1), '') AS src_ip,
    TRY_CAST(regexp_extract(src_ip_port, ':(\d+)$', 1) AS INTEGER) AS src_port"""


def group_calls(con: duckdb.DuckDBPyConnection) -> None:
    """stage_calls: one row per call (or click2call branch) of the good rows, in file order,
    with its path's length and hash from the same aggregation, and the call's fields from
    its first row (an aggregate carrying every call field over every path row cost more,
    most at scale, where norm_rows is read back from DuckDB's temp files)."""
    keep = [c for c in GROUP_COLUMNS if c not in ("tenant", "unique_id")]
    # rows read from a CSV are records; the JSON/XML readers number the call objects (_rec)
    by_record = con.execute("SELECT count(_rec) > 0 FROM norm").fetchone()[0]
    records = "count(DISTINCT coalesce(_rec, _row))" if by_record else "count(*)"
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE stage_calls AS
    WITH paths AS (
      SELECT tenant, unique_id, group_hash, min(_row) AS first_row, {records} AS n_records,
          -- not hashed into group_hash: any row's (the unknown columns of a call)
          any_value(extra) AS extra,
          count(*) FILTER (WHERE has_leg)::INTEGER AS path_len,
          -- order-free and position-free: the same path in another export hashes the same
          hash(sum(hash({_LEG_HASH})::HUGEINT) FILTER (WHERE has_leg)) AS path_hash,
          coalesce(bool_or(m_dest_type = 'obl') FILTER (WHERE has_leg), false) AS via_obl
      FROM {_mapped_rows()} g
      GROUP BY tenant, unique_id, group_hash
    ), grouped AS (
      -- the call's fields from its first row (the rows of a group share them: they are what
      -- group_hash hashes), looked up by row: the aggregate above stays narrow
      SELECT p.tenant, p.unique_id, p.group_hash, p.first_row,
          {', '.join(f'n.{c}' for c in keep)}, n.unique_epoch, n.start_local, p.extra,
          p.n_records, p.path_len, p.path_hash, p.via_obl
      FROM paths p JOIN good n ON n._row = p.first_row
    ), named AS (
      SELECT c.* EXCLUDE (end_ts_raw, duration_d, bill_d, src_ip_port, via_obl) REPLACE (
            coalesce(v_source_type.code, c.source_type) AS source_type,
            coalesce(v_destination_type.code, c.destination_type) AS destination_type,
            coalesce(v_status.code, upper(c.status)) AS status,
            CASE WHEN c.path_len > 0 THEN c.path_hash END AS path_hash),
          c.status AS status_raw, c.via_obl, {_CALL_VALUES}
      FROM grouped c {_vmap('source_type', 'c')} {_vmap('destination_type', 'c')}
          {_vmap('status', 'c')}
    )
    SELECT c.* EXCLUDE (via_obl), hash({', '.join(CALL_HASH_COLUMNS)}) AS call_hash,
        0::SMALLINT AS leg_branch,
        CASE WHEN c.source_type = 'ibl' THEN 'incoming'
             WHEN c.destination_type = 'obl' OR c.via_obl THEN 'outgoing'
             ELSE 'internal' END AS direction,
        (b.unique_id IS NOT NULL) AS path_incomplete
    FROM named c
    LEFT JOIN (SELECT DISTINCT tenant, unique_id FROM norm_rows WHERE reason IS NOT NULL) b
        USING (tenant, unique_id)
    ORDER BY c.first_row
    """)  # noqa: S608 -- names and SQL fragments from code; values bound
    _number_branches(con)


def _number_branches(con: duckdb.DuckDBPyConnection) -> None:
    """leg_branch: the rows of one unique_id with different call fields are branches 0, 1 ...
    in file order (click2call/callback, K-23760). Few calls have two: only those are ranked."""
    con.execute("""
    UPDATE stage_calls s SET leg_branch = r.leg_branch FROM (
      SELECT tenant, unique_id, group_hash,
        (dense_rank() OVER (PARTITION BY tenant, unique_id ORDER BY first_row) - 1)::SMALLINT
          AS leg_branch
      FROM stage_calls
      SEMI JOIN (SELECT tenant, unique_id FROM stage_calls GROUP BY tenant, unique_id
                 HAVING count(*) > 1) m USING (tenant, unique_id)) r
    WHERE s.tenant = r.tenant AND s.unique_id = r.unique_id AND s.group_hash = r.group_hash
    """)


STEPS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = (
    map_vocabulary, collect_rejects, stage_legs, group_calls,
)
