"""Carrier reconciliation: a carrier's invoice detail checked against the calls.

`import_invoice(con, path, gateway)` reads the carrier's CSV (one line per call: number, start,
duration, cost; the column names come from the setting carrier_columns or `columns=`), keeps
the good lines (numbers in the national dialled form the rating keys use, starts in the PBX
time zone, durations in seconds from `123` or `HH:MM:SS`, costs with a dot or a comma) and
puts every bad line aside with its reason and line number (carrier_invoice_rejects). The same
file for the same gateway again is a no-op (its SHA-256).

`reconcile(con, invoice_id)` matches the lines to the outgoing calls of the gateway (the key's
line or outbound configuration) with the same number, starts at most carrier_match_window_s
apart and durations at most carrier_duration_tolerance_s apart: each line takes its nearest
call (start, then duration), each call keeps its nearest line; one round, set-based (a line
whose nearest call went to a nearer line stays unmatched: the carrier and the PBX rarely bill
the same number twice within the window). The report billing.carrier sums the result per
gateway and month against the current call costs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from pbxlens import PbxlensError
from pbxlens.billing import rating_keys
from pbxlens.config import get_settings

FIELDS = ("number", "start", "duration", "cost")


class CarrierFileError(PbxlensError):
    status = 400


def columns(spec: str | dict[str, str] | None = None) -> dict[str, str]:
    """field -> the file's column, from `spec` ("number=Numero,start=Data ora,...") or the
    setting carrier_columns."""
    if isinstance(spec, dict):
        got = dict(spec)
    else:
        got = {}
        for part in (spec or get_settings().carrier_columns).split(","):
            field, sep, col = part.partition("=")
            if not sep or not col.strip():
                raise CarrierFileError(f"carrier columns: expected field=column, got {part!r}")
            got[field.strip()] = col.strip()
    missing = [f for f in FIELDS if f not in got]
    unknown = [f for f in got if f not in FIELDS]
    if missing or unknown:
        raise CarrierFileError(f"carrier columns: need {', '.join(FIELDS)}"
                               + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    return got


# The file's rows with their parsed fields (NULL where a field does not parse); the columns
# are renamed c0, c1, ... (no name from the file reaches SQL text). Args: the file, the
# names, the start format, the PBX time zone, the home calling code (three times).
_PARSED = """
CREATE OR REPLACE TEMP TABLE _cr_rows AS
WITH raw AS (
  SELECT CAST(row_number() OVER () + 1 AS INTEGER) AS line_no, {number} AS n, {start} AS st,
    {duration} AS du, {cost} AS co
  FROM read_csv(?, all_varchar = true, header = true, names = ?)),
p AS (
  SELECT raw.*, regexp_replace(coalesce(n, ''), '[^0-9+]', '', 'g') AS n0,
    try_strptime(trim(st), ?) AS st_local,
    CASE WHEN regexp_full_match(trim(du), '[0-9]+') THEN TRY_CAST(trim(du) AS INTEGER)
         WHEN regexp_full_match(trim(du), '[0-9]+:[0-5][0-9]:[0-5][0-9]') THEN
           CAST(split_part(trim(du), ':', 1) AS INTEGER) * 3600
           + CAST(split_part(trim(du), ':', 2) AS INTEGER) * 60
           + CAST(split_part(trim(du), ':', 3) AS INTEGER) END AS dur,
    TRY_CAST(CASE WHEN contains(trim(co), ',') AND NOT contains(trim(co), '.')
                  THEN replace(trim(co), ',', '.') ELSE replace(trim(co), ',', '') END
             AS DECIMAL(18, 5)) AS cost
  FROM raw)
SELECT p.line_no, p.n, p.st, p.du, p.co, p.dur, p.cost,
  timezone(?, p.st_local) AS start_ts, CAST(p.st_local AS DATE) AS day,
  CASE WHEN starts_with(p.n0, '+' || ?) THEN substr(p.n0, length(?) + 2)
       WHEN starts_with(p.n0, '00' || ?) THEN substr(p.n0, length(?) + 3)
       WHEN starts_with(p.n0, '+') THEN '00' || substr(p.n0, 2) ELSE p.n0 END AS number,
  CASE WHEN p.n0 = '' THEN 'number: missing'
       WHEN p.st_local IS NULL THEN 'start: not a date and time in the format ' || ?
       WHEN p.dur IS NULL THEN 'duration: not seconds or HH:MM:SS'
       WHEN p.cost IS NULL THEN 'cost: not a number'
       WHEN p.cost < 0 THEN 'cost: negative' END AS reason
FROM p"""


def import_invoice(con: duckdb.DuckDBPyConnection, path: Path, gateway: str, *,
                   tenant: str = "default", columns_spec: str | dict[str, str] | None = None,
                   start_format: str | None = None, match: bool = True) -> dict[str, int]:
    """Load a carrier invoice detail CSV for `gateway` and reconcile it; returns
    {invoice_id, lines, rejected, matched} (`already: 1` when this file was loaded before)."""
    path = Path(path)
    if not path.is_file():
        raise CarrierFileError(f"{path}: no such file")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    old = con.execute("SELECT id, lines, rejected FROM carrier_invoices WHERE tenant = ? AND "
                      "gateway = ? AND sha256 = ?", [tenant, gateway, digest]).fetchone()
    if old:
        return {"invoice_id": old[0], "lines": old[1], "rejected": old[2], "already": 1}
    cols = columns(columns_spec)
    header = [d[0] for d in con.execute("SELECT * FROM read_csv(?, all_varchar = true, "
                                        "header = true) LIMIT 0", [str(path)]).description]
    absent = [c for c in cols.values() if c not in header]
    if absent:
        raise CarrierFileError(f"{path.name}: no column {', '.join(map(repr, absent))} "
                               f"(columns: {', '.join(header)})")
    tz = get_settings().timezone
    fmt = start_format or get_settings().carrier_start_format
    home = rating_keys.settings()[1]
    names = [f"c{i}" for i in range(len(header))]
    con.execute(_PARSED.format(**{f: names[header.index(c)] for f, c in cols.items()}),
                [str(path), names, fmt, tz, home, home, home, home, fmt])
    con.execute("BEGIN TRANSACTION")
    try:
        n_ok, n_bad, lo, hi = con.execute(
            "SELECT count(*) FILTER (WHERE reason IS NULL), count(*) FILTER (WHERE reason IS NOT "
            "NULL), min(day) FILTER (WHERE reason IS NULL), max(day) FILTER (WHERE reason IS "
            "NULL) FROM _cr_rows").fetchone()
        inv = con.execute(
            "INSERT INTO carrier_invoices (tenant, gateway, file_name, sha256, lines, rejected, "
            "first_day, last_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [tenant, gateway, path.name, digest, n_ok, n_bad, lo, hi]).fetchone()[0]
        con.execute("INSERT INTO carrier_invoice_lines SELECT ?, line_no, number, start_ts, day, "
                    "dur, cost FROM _cr_rows WHERE reason IS NULL ORDER BY line_no", [inv])
        con.execute("INSERT INTO carrier_invoice_rejects SELECT ?, line_no, reason, "
                    "concat_ws(',', n, st, du, co) FROM _cr_rows WHERE reason IS NOT NULL "
                    "ORDER BY line_no", [inv])
        matched = reconcile(con, inv) if match else 0
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS _cr_rows")
    return {"invoice_id": inv, "lines": n_ok, "rejected": n_bad, "matched": matched}


_PAIRS = """
CREATE OR REPLACE TEMP TABLE _cr_pairs AS
WITH inv AS (SELECT * FROM carrier_invoices WHERE id = ?),
keys AS (
  SELECT k.kid, k.num FROM rating_keys k JOIN inv ON k.tenant = inv.tenant AND k.dir = 'out'
  AND (k.line = inv.gateway OR k.gw = inv.gateway)),
cand AS (
  SELECT l.line_no, rc.tenant, rc.unique_id, rc.leg_branch,
    abs(epoch(rc.start_ts) - epoch(l.start_ts)) AS dt, abs(rc.s - l.duration_s) AS dd
  FROM carrier_invoice_lines l JOIN keys k ON k.num = l.number
  JOIN rating_calls rc ON rc.kid = k.kid AND rc.day BETWEEN l.day - 1 AND l.day + 1
  WHERE l.invoice_id = ? AND abs(epoch(rc.start_ts) - epoch(l.start_ts)) <= ?
    AND abs(rc.s - l.duration_s) <= ?),
best_call AS (
  SELECT * FROM cand QUALIFY row_number() OVER (PARTITION BY line_no
    ORDER BY dt, dd, unique_id, leg_branch) = 1)
SELECT * FROM best_call QUALIFY row_number() OVER (PARTITION BY tenant, unique_id, leg_branch
  ORDER BY dt, dd, line_no) = 1"""


def reconcile(con: duckdb.DuckDBPyConnection, invoice_id: int) -> int:
    """Match the invoice's lines to calls again (after new calls or a change of the
    tolerances); returns the number of matched lines."""
    s = get_settings()
    con.execute("DELETE FROM carrier_matches WHERE invoice_id = ?", [invoice_id])
    con.execute(_PAIRS, [invoice_id, invoice_id, s.carrier_match_window_s,
                         s.carrier_duration_tolerance_s])
    n = con.execute("INSERT INTO carrier_matches SELECT ?, line_no, tenant, unique_id, leg_branch "
                    "FROM _cr_pairs", [invoice_id]).fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _cr_pairs")
    return int(n)


def invoices(con: duckdb.DuckDBPyConnection, tenant: str | None = None) -> list[dict]:
    cur = con.execute("SELECT * FROM carrier_invoices WHERE CAST(? AS TEXT) IS NULL OR "
                      "tenant = ? ORDER BY id", [tenant, tenant])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
