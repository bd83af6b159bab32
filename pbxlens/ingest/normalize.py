"""SQL that turns `raw_rows` (text, as read) into normalized staged calls, legs and rejects.

Everything runs as set-based SQL in DuckDB: parsing of instants and durations, vocabulary
mapping, validation with a reason per row, grouping of detail rows into calls and paths.
Output temp tables: `stage_calls`, `stage_legs`, `stage_rejects`.
"""

from __future__ import annotations

import duckdb

from pbxlens.models import vocabulary

_MACROS = r"""
CREATE OR REPLACE TEMP MACRO pbx_blank(s) AS (s IS NULL OR trim(s) = '');
CREATE OR REPLACE TEMP MACRO pbx_txt(s) AS nullif(trim(s), '');
CREATE OR REPLACE TEMP MACRO pbx_ts(s) AS CASE
    WHEN s IS NULL OR trim(s) = '' THEN NULL::TIMESTAMPTZ
    WHEN regexp_full_match(trim(s), '\d{9,10}(\.\d+)?')
        THEN to_timestamp(TRY_CAST(trim(s) AS DOUBLE))
    WHEN length(trim(s)) > 16 AND (right(trim(s), 1) = 'Z'
            OR substr(trim(s), -6, 1) IN ('+', '-') OR substr(trim(s), -5, 1) IN ('+', '-'))
        THEN try_strptime(regexp_replace(trim(s), 'Z$', '+00:00'),
            ['%Y-%m-%dT%H:%M:%S%z', '%Y-%m-%dT%H:%M:%S.%f%z',
             '%Y-%m-%d %H:%M:%S%z', '%Y-%m-%d %H:%M:%S.%f%z'])
    ELSE try_strptime(trim(s),
            ['%Y-%m-%d %H:%M:%S', '%d/%m/%Y %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f',
             '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%d/%m/%Y %H:%M',
             '%d-%m-%Y %H:%M:%S', '%Y/%m/%d %H:%M:%S'])::TIMESTAMPTZ
END;
CREATE OR REPLACE TEMP MACRO pbx_hms(s) AS
    regexp_extract(trim(s), '^(-?)(?:(\d+)\s*(?:gg|g|d|days?)\s+)?(\d+):(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)$',
                   ['sign', 'd', 'h', 'm', 's']);
CREATE OR REPLACE TEMP MACRO pbx_dur(s) AS CASE
    WHEN s IS NULL OR trim(s) = '' THEN NULL::DECIMAL(18, 3)
    WHEN TRY_CAST(replace(trim(s), ',', '.') AS DECIMAL(18, 3)) IS NOT NULL
        THEN TRY_CAST(replace(trim(s), ',', '.') AS DECIMAL(18, 3))
    WHEN pbx_hms(s).h = '' THEN NULL::DECIMAL(18, 3)
    ELSE (CASE WHEN pbx_hms(s).sign = '-' THEN -1 ELSE 1 END) * (
        coalesce(TRY_CAST(nullif(pbx_hms(s).d, '') AS BIGINT), 0) * 86400
        + CAST(pbx_hms(s).h AS BIGINT) * 3600 + CAST(pbx_hms(s).m AS BIGINT) * 60
        + CAST(replace(pbx_hms(s).s, ',', '.') AS DECIMAL(18, 3)))::DECIMAL(18, 3)
END;
CREATE OR REPLACE TEMP MACRO pbx_bool(s) AS CASE lower(trim(s))
    WHEN '1' THEN true WHEN 'true' THEN true WHEN 'yes' THEN true WHEN 'si' THEN true
    WHEN 'sì' THEN true WHEN 'y' THEN true WHEN 't' THEN true
    WHEN '0' THEN false WHEN 'false' THEN false WHEN 'no' THEN false WHEN 'n' THEN false
    WHEN 'f' THEN false ELSE NULL END;
"""

# Longest accepted call: a call (or a CDR value) beyond a week is a corrupt value, not a call.
MAX_SECONDS = 7 * 86400
# Pre-4.5.11 firmware wrote small negative bill times for failed calls (#5644, e.g. -0.121).
BILL_NEGATIVE_TOLERANCE = 5

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


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the parsing macros and the vocabulary table on this connection (idempotent)."""
    con.execute(_MACROS)
    con.execute("CREATE OR REPLACE TEMP TABLE vocab (scope TEXT, key TEXT, code TEXT)")
    con.executemany("INSERT INTO vocab VALUES (?, ?, ?)", vocabulary.alias_rows())


def _vocab(scope: str, expr: str) -> str:
    k = vocabulary.sql_key(expr)
    fallback = f"pbx_txt({expr})" if scope == "endpoint_type" else f"upper(pbx_txt({expr}))"
    return (f"coalesce((SELECT code FROM vocab v WHERE v.scope = '{scope}' AND v.key = {k}),"
            f" {fallback})")


def _ts_check(field: str) -> str:
    return (f"CASE WHEN NOT pbx_blank({field}) AND pbx_ts({field}) IS NULL"
            f" THEN 'unparsable {field} ' || to_json(trim({field}))::TEXT END")


def stage(con: duckdb.DuckDBPyConnection, *, default_tenant: str = "default") -> None:
    """raw_rows -> stage_calls, stage_legs, stage_rejects (temp tables)."""
    checks = [
        "CASE WHEN pbx_blank(unique_id) THEN 'missing unique_id' END",
        "CASE WHEN pbx_blank(start_datetime) THEN 'missing start_datetime' END",
        "CASE WHEN pbx_blank(status) THEN 'missing status' END",
        *(_ts_check(f) for f in TS_FIELDS + DETAIL_TS),
        "CASE WHEN pbx_dur(duration) IS NULL AND NOT pbx_blank(duration)"
        " THEN 'unparsable duration ' || to_json(trim(duration))::TEXT"
        " WHEN pbx_dur(duration) < 0 THEN 'negative duration ' || to_json(trim(duration))::TEXT"
        f" WHEN pbx_dur(duration) > {MAX_SECONDS}"
        " THEN 'absurd duration (over 7 days) ' || to_json(trim(duration))::TEXT END",
        "CASE WHEN pbx_dur(bill_secs) IS NULL AND NOT pbx_blank(bill_secs)"
        " THEN 'unparsable bill_secs ' || to_json(trim(bill_secs))::TEXT"
        f" WHEN pbx_dur(bill_secs) < -{BILL_NEGATIVE_TOLERANCE}"
        " THEN 'negative bill_secs ' || to_json(trim(bill_secs))::TEXT"
        f" WHEN pbx_dur(bill_secs) > {MAX_SECONDS}"
        " THEN 'absurd bill_secs (over 7 days) ' || to_json(trim(bill_secs))::TEXT END",
        "CASE WHEN pbx_dur(detail_waiting_time) IS NULL AND NOT pbx_blank(detail_waiting_time)"
        " THEN 'unparsable detail_waiting_time ' || to_json(trim(detail_waiting_time))::TEXT"
        " WHEN pbx_dur(detail_waiting_time) < 0 THEN 'negative detail_waiting_time' END",
        "CASE WHEN pbx_ts(end_datetime) < pbx_ts(start_datetime)"
        " THEN 'end_datetime before start_datetime' END",
    ]
    has_leg = " OR ".join(f"NOT pbx_blank({f})" for f in DETAIL_TEXT)
    raw_struct = "to_json(struct_pack(" + ", ".join(
        f"{f} := {f}" for f in (
            "unique_id", "status", "start_datetime", "end_datetime", "duration", "bill_secs",
            "caller", "called", *DETAIL_TEXT)
    ) + "))::TEXT"

    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE norm AS
    SELECT * EXCLUDE (raw_json), CASE WHEN reason IS NOT NULL THEN raw_json END AS raw_json
    FROM (
      SELECT _rec, _line, nullif(concat_ws('; ', {', '.join(checks)}), '') AS reason,
        {raw_struct} AS raw_json,
        coalesce(pbx_txt(tenant), $tenant) AS tenant,
        trim(unique_id) AS unique_id,
        {_vocab('endpoint_type', 'source_type')} AS source_type,
        {_vocab('endpoint_type', 'destination_type')} AS destination_type,
        {_vocab('status', 'status')} AS status,
        pbx_txt(status) AS status_raw,
        pbx_ts(start_datetime) AS start_ts,
        pbx_ts(channel_up_datetime) AS channel_up_ts,
        pbx_ts(answer_datetime) AS answer_ts,
        pbx_ts(end_datetime) AS end_ts_raw,
        pbx_dur(duration) AS duration_d,
        pbx_dur(bill_secs) AS bill_d,
        pbx_txt(answered_by) AS answered_by,
        pbx_txt(caller) AS caller,
        pbx_txt(caller_name) AS caller_name,
        pbx_bool(anonymous) AS caller_anonymous,
        pbx_txt(called) AS called,
        pbx_txt(gateway_name) AS gateway_name,
        pbx_txt(account_code) AS account_code,
        pbx_txt(src_peer_name) AS src_peer_name,
        pbx_txt(src_ip_port) AS src_ip_port,
        pbx_txt(src_extension) AS src_extension,
        _extra AS extra,
        ({has_leg}) AS has_leg,
        pbx_txt(detail_source_num) AS source_num,
        pbx_bool(detail_source_anonymous) AS source_anonymous,
        {_vocab('endpoint_type', 'detail_destination_type')} AS dest_type,
        pbx_txt(detail_destination_id) AS dest_id,
        pbx_txt(detail_destination_name) AS dest_name,
        pbx_txt(detail_destination_num) AS dest_num,
        pbx_ts(detail_enter_datetime) AS enter_ts,
        pbx_ts(detail_enqueue_datetime) AS enqueue_ts,
        pbx_ts(detail_answer_datetime) AS leg_answer_ts,
        pbx_ts(detail_exit_datetime) AS exit_ts,
        {_vocab('exit_cause', 'detail_exit_cause')} AS exit_cause,
        pbx_txt(detail_exit_cause) AS exit_cause_raw,
        pbx_txt(detail_answered_by) AS leg_answered_by,
        pbx_dur(detail_waiting_time)::DECIMAL(10, 3) AS waiting_s,
        pbx_txt(detail_mapped_source_num) AS mapped_source_num,
        pbx_txt(detail_mapped_dst_num) AS mapped_dst_num,
        pbx_txt(detail_account_code) AS leg_account_code,
        pbx_bool(detail_checktime_in_hours) AS checktime_in_hours
      FROM raw_rows
    )
    """, {"tenant": default_tenant})

    con.execute("""
    CREATE OR REPLACE TEMP TABLE stage_rejects AS
    SELECT _rec, _line, raw_json AS raw, reason FROM norm WHERE reason IS NOT NULL
    UNION ALL BY NAME
    SELECT _rec, _line, raw, reason FROM raw_rejects
    """)

    # Derived call fields: durations from the CDR's own fields; end from start + duration
    # only when the export left it empty; bill time clamped at 0 (#5644).
    hash_cols = ", ".join(CALL_HASH_COLUMNS)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE good AS
    SELECT *, hash({hash_cols}) AS call_hash
    FROM (
      SELECT * EXCLUDE (end_ts_raw, duration_d, bill_d, src_ip_port),
        coalesce(end_ts_raw, start_ts + to_seconds(coalesce(floor(duration_d), 0)::BIGINT)) AS end_ts,
        coalesce(floor(duration_d)::INTEGER,
                 (epoch(end_ts_raw) - epoch(start_ts))::INTEGER, 0) AS duration_s,
        greatest(coalesce(bill_d, 0), 0)::DECIMAL(12, 3) AS bill_s,
        nullif(regexp_extract(src_ip_port, '^\\[?([0-9A-Fa-f:.]+?)\\]?:(\\d+)$', 1), '') AS src_ip,
        TRY_CAST(regexp_extract(src_ip_port, ':(\\d+)$', 1) AS INTEGER) AS src_port,
        TRY_CAST(split_part(unique_id, '.', 1) AS BIGINT) AS unique_epoch
      FROM norm WHERE reason IS NULL
    )
    """)

    leg_struct = ", ".join(f"{c} := {c}" for c in LEG_COLUMNS)
    con.execute("""
    CREATE OR REPLACE TEMP TABLE stage_legs AS
    SELECT g.tenant, g.unique_id, g.call_hash,
        row_number() OVER (PARTITION BY g.tenant, g.unique_id, g.call_hash ORDER BY g._rec, g.rid)
            ::SMALLINT AS seq,
        source_num, source_anonymous, dest_type, dest_id, dest_name, dest_num, enter_ts,
        enqueue_ts, leg_answer_ts AS answer_ts, exit_ts, exit_cause, exit_cause_raw,
        leg_answered_by AS answered_by, waiting_s, mapped_source_num, mapped_dst_num,
        leg_account_code AS account_code, checktime_in_hours
    FROM (SELECT rowid AS rid, * FROM good WHERE has_leg) g
    """)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE stage_paths AS
    SELECT tenant, unique_id, call_hash, count(*)::SMALLINT AS path_len,
        hash(list(struct_pack({leg_struct}) ORDER BY seq)) AS path_hash,
        bool_or(dest_type = 'obl') AS via_obl
    FROM stage_legs GROUP BY ALL
    """)
    any_cols = ", ".join(
        f"any_value({c}) AS {c}" for c in CALL_HASH_COLUMNS if c not in ("tenant", "unique_id")
    )
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE stage_calls AS
    WITH grouped AS (
      SELECT tenant, unique_id, call_hash, min(_rec) AS first_rec, {any_cols},
          any_value(status_raw) AS status_raw, any_value(unique_epoch) AS unique_epoch,
          any_value(extra) AS extra
      FROM good GROUP BY tenant, unique_id, call_hash
    )
    SELECT c.*,
        (dense_rank() OVER (PARTITION BY c.tenant, c.unique_id ORDER BY c.first_rec) - 1)
            ::SMALLINT AS leg_branch,
        coalesce(p.path_len, 0)::SMALLINT AS path_len,
        p.path_hash,
        CASE WHEN c.source_type = 'ibl' THEN 'incoming'
             WHEN c.destination_type = 'obl' OR coalesce(p.via_obl, false) THEN 'outgoing'
             ELSE 'internal' END AS direction,
        EXISTS (SELECT 1 FROM norm n WHERE n.reason IS NOT NULL AND n.tenant = c.tenant
                AND n.unique_id = c.unique_id) AS path_incomplete
    FROM grouped c LEFT JOIN stage_paths p USING (tenant, unique_id, call_hash)
    """)
