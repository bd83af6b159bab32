"""Coincidence day summaries: the 1-second concurrency sweep cut into PBX-local days.

Every interval a coincidence report counts (coincidence.py: [answer, end) or [start, end) of a
call on a line) is cut into one *piece* per local day it touches, so a call across midnight
adds to both days and a DST day is 23 or 25 hours long. The sweep then runs per (line, day):
+1 at a piece's start, -1 at its end (ends before starts at the same second, so back-to-back
calls never overlap), bucket boundaries as 0-events, and a running sum gives the level of
every constant segment. Every (line, day) is independent of the others: its events are one
range of packed 64-bit keys, so one parallel sort groups them and the running sum restarts at
zero in each (sweep_select). Per bucket: the peak, the first second at the peak,
channel-seconds and the intervals starting in it (plus, in the day's first bucket, those
carried over midnight); per level: the seconds at it. A range of days adds these up exactly:
bucket boundaries are elapsed time from each day's midnight, and every local midnight of a
range lies a whole number of hours after the first one, so the range's buckets are the days'
buckets side by side.

The same sweep serves twice: `refresh`/`rebuild` keep it in coincidence_day_buckets /
coincidence_day_levels (quarter hours, per line and for all the tenant's lines, both interval
definitions, both report keys), and `sweep_select` runs it on the fly for what the stored
summaries cannot answer (a subset of several lines, buckets that are not whole quarter hours,
all lines of several tenants at once).
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from pbxlens.config import get_settings

ALL = "\x1f*"  # line of the all-lines rows (never a line name)
BUCKET_S = 900  # the stored buckets: quarter hours
CHUNK_DAYS = 31  # a rebuild sweeps a month at a time (memory stays flat)
# The longest local day: a piece's second of day fits in 17 bits, so (level, second) orders
# as one BIGINT; a day is at least 23 h, which bounds how many days an interval can span.
_DAY_BITS = 131072
_T_MASK = _DAY_BITS - 1
_MIN_DAY_S = 82800

TABLES = ("coincidence_day_buckets", "coincidence_day_levels")
_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("coincidence_days", default=True)
_SCRATCH = ("_cd_scope", "_cd_touched", "_cd_agg")


def intervals_sql(where: str = "", *, kind: str | None = None, fs: bool | None = None) -> str:
    """Every counted interval of line_calls under both report keys and both definitions, or
    under the given ones: (tenant, kind, fs, line, day0 = the call's local start day, a, e).
    `where` filters line_calls (alias l)."""
    if kind is not None and fs is not None:  # one report's intervals: no cross product
        line = "l.gateway" if kind == "gateway" else "l.out_config"
        a = "l.start_s" if fs else "l.answer_s"
        out = "" if kind == "gateway" else "AND l.direction = 'outgoing'"
        return f"""
  SELECT l.tenant, '{kind}' AS kind, {str(bool(fs)).lower()} AS fs, {line} AS line,
    l.day AS day0, {a} AS a, l.end_s AS e
  FROM line_calls l
  WHERE {a} < l.end_s {out} {where}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return f"""
  SELECT l.tenant, k.kind, f.fs,
    CASE WHEN k.kind = 'gateway' THEN l.gateway ELSE l.out_config END AS line, l.day AS day0,
    CASE WHEN f.fs THEN l.start_s ELSE l.answer_s END AS a, l.end_s AS e
  FROM line_calls l
  CROSS JOIN (SELECT 'gateway' AS kind UNION ALL SELECT 'out_config' AS kind) k
  CROSS JOIN (SELECT false AS fs UNION ALL SELECT true AS fs) f
  WHERE (k.kind = 'gateway' OR l.direction = 'outgoing')
    AND CASE WHEN f.fs THEN l.start_s ELSE l.answer_s END < l.end_s {where}"""  # noqa: S608 -- names and SQL fragments from code; values bound


def _calendar(iv: str | None) -> str:
    """Local midnights (lo) and day ends (hi) of every day an interval can touch: the days
    from $c0 to $c1, or (iv given) those the intervals of `iv` span, with a day of margin."""
    if iv is None:
        bounds = "SELECT CAST($c0 AS DATE) AS d0, CAST($c1 AS DATE) AS d1"
    else:
        bounds = f"""SELECT least(min(day0), CAST(to_timestamp(min(a)) AS DATE)) - 1 AS d0,
    greatest(max(day0), CAST(to_timestamp(max(e)) AS DATE)) + 1 AS d1
  FROM {iv}"""  # noqa: S608 -- names and SQL fragments from code; values bound
    return f"""
bounds AS (
  {bounds}
), cal AS (
  SELECT day, CAST(datediff('day', d0, day) AS BIGINT) AS i,
    CAST(epoch(CAST(day AS TIMESTAMPTZ)) AS BIGINT) AS lo,
    CAST(epoch(CAST(day + 1 AS TIMESTAMPTZ)) AS BIGINT) AS hi
  FROM (SELECT d0, CAST(unnest(generate_series(CAST(d0 AS TIMESTAMP), CAST(d1 AS TIMESTAMP),
                                               INTERVAL 1 DAY)) AS DATE) AS day FROM bounds)
)"""  # noqa: S608 -- names and SQL fragments from code; values bound


def calendar_bounds(con: duckdb.DuckDBPyConnection, where: str, args: dict) -> dict:
    """{c0, c1}: the days (with a day of margin) the line_calls rows that `where` (a filter
    on alias l) selects can touch, for a calendar given as parameters (see pieces_ctes)."""
    lo_a, d0, e1, d1 = con.execute(f"""SELECT min(least(l.start_s, coalesce(l.answer_s,
        l.start_s))), min(l.day), max(l.end_s), max(l.day) FROM line_calls l
        WHERE true {where}""", _used(where, args)).fetchone()  # noqa: S608 -- names and SQL fragments from code; values bound
    if d0 is None:
        return {"c0": date(2000, 1, 1), "c1": date(2000, 1, 2)}
    return {"c0": min(d0, _local_day(int(lo_a))) - timedelta(days=1),
            "c1": max(d1, _local_day(int(e1))) + timedelta(days=1)}


def pieces_ctes(iv: str, *, cal_params: bool = False) -> str:
    """CTEs ending in `pieces` (tenant, kind, fs, line, day, a, e): the intervals of `iv` (a
    subquery with columns tenant, kind, fs, line, day0, a, e) once per local day they touch.
    The day is found by equality on the call's start day (a hash join); only an interval that
    leaves that day (across midnight) is expanded to its neighbours. The calendar spans the
    days of `iv` (read twice: it is materialized), or with `cal_params` the days $c0 .. $c1
    (calendar_bounds; `iv` is then streamed once)."""
    iv_cte = "iv AS (SELECT * FROM {iv})" if cal_params else "iv AS MATERIALIZED (SELECT * FROM {iv})"
    return f"""
WITH {iv_cte.format(iv=iv)},
{_calendar(None if cal_params else "iv")},
iv0 AS (
  SELECT iv.*, c.lo AS lo0, c.hi AS hi0 FROM iv JOIN cal c ON c.day = iv.day0
), pieces AS (
  SELECT tenant, kind, fs, line, day0 AS day, a, e FROM iv0 WHERE a >= lo0 AND e <= hi0
  UNION ALL
  SELECT x.tenant, x.kind, x.fs, x.line, c.day, x.a, x.e
  FROM (SELECT *, unnest(range(
          CASE WHEN a < lo0 THEN -((lo0 - a + {_MIN_DAY_S - 1}) // {_MIN_DAY_S}) ELSE 0 END,
          CASE WHEN e > hi0 THEN (e - hi0 + {_MIN_DAY_S - 1}) // {_MIN_DAY_S} ELSE 0 END + 1))
          AS k
        FROM iv0 WHERE a < lo0 OR e > hi0) x
  JOIN cal c ON c.day = x.day0 + CAST(x.k AS INTEGER)
  WHERE c.lo < x.e AND c.hi > x.a
)"""  # noqa: S608 -- names and SQL fragments from code; values bound


def sweep_select(iv: str, keep: str, bucket: str, *, all_tenants: bool = False,
                 lines: bool = True, cal_params: bool = True) -> str:
    """A SELECT of the sweep of the intervals `iv` (see pieces_ctes) on the days `keep`
    accepts (a predicate on p.tenant, p.day), with buckets of `bucket` seconds (an expression
    that divides 3600). Rows (tenant, kind, fs, line, day, gid, b, level, peak, peak_t,
    level_s, secs, starts, carried): gid 1 = a bucket b with a call in it (peak_t absolute),
    gid 2 = the seconds at a level > 0. The all-lines rows (line ALL) are per tenant, or
    across tenants (tenant ALL) with `all_tenants`; `lines=False` sweeps only those.

    Every event is one BIGINT: part << 35 | day << 19 | second of day << 2 | kind (0 = an end,
    1 = a bucket boundary, 2 = a start, 3 = a start carried over midnight), so one sort puts
    each (line, day) together, in time order, ends before starts. Every (line, day) sums to
    0, so one running sum over the sorted stream is each one's own level (a streaming
    window); a row and the one before it in the same (line, day) bound a constant segment.
    Measured: faster than a window PARTITIONED BY line and day, whose per-partition sums
    DuckDB builds as segment trees."""
    at = f"'{ALL}'" if all_tenants else "tenant"
    at_lp = f"'{ALL}'" if all_tenants else "lp.tenant"
    delta = "CASE k & 3 WHEN 0 THEN -1 WHEN 1 THEN 0 ELSE 1 END"
    line_events = "UNION ALL SELECT pd | s FROM pc UNION ALL SELECT pd | e FROM pc" if lines else ""
    line_bounds = "UNION SELECT DISTINCT pd, len FROM pc" if lines else ""
    return f"""{pieces_ctes(iv, cal_params=cal_params)}, kept AS (
  SELECT p.* FROM pieces p WHERE {keep}
), lp AS (
  SELECT DISTINCT tenant, kind, fs, line FROM kept
), ap AS MATERIALIZED (
  SELECT CAST(row_number() OVER () AS BIGINT) AS pid, * FROM (
    SELECT DISTINCT {at} AS tenant, kind, fs FROM lp)
), parts AS MATERIALIZED (
  SELECT (SELECT count(*) FROM ap) + CAST(row_number() OVER () AS BIGINT) AS pid, lp.*,
    ap.pid AS apid
  FROM lp JOIN ap ON ap.tenant = {at_lp} AND ap.kind = lp.kind AND ap.fs = lp.fs
  UNION ALL SELECT pid, tenant, kind, fs, '{ALL}', NULL FROM ap
), pc AS MATERIALIZED (
  SELECT (p.pid << 16 | c.i) << 19 AS pd, (p.apid << 16 | c.i) << 19 AS apd,
    c.hi - c.lo AS len,
    (greatest(k.a, c.lo) - c.lo) << 2 | CASE WHEN k.a < c.lo THEN 3 ELSE 2 END AS s,
    (least(k.e, c.hi) - c.lo) << 2 AS e
  FROM kept k JOIN cal c ON c.day = k.day
  JOIN parts p ON p.tenant = k.tenant AND p.kind = k.kind AND p.fs = k.fs AND p.line = k.line
), ev AS (
  SELECT apd | s AS k FROM pc UNION ALL SELECT apd | e FROM pc
  {line_events}
  UNION ALL
  SELECT q | (unnest(range(0, len, {bucket})) << 2) | 1
  FROM (SELECT DISTINCT apd AS q, len FROM pc {line_bounds})
), st AS (
  SELECT k, lag(k) OVER () AS pk, sum({delta}) OVER (ROWS UNBOUNDED PRECEDING) AS level
  FROM (SELECT k FROM ev ORDER BY k)
), seg AS (
  SELECT pk >> 19 AS q, (pk >> 2) & {_T_MASK} AS t,
    ((k >> 2) & {_T_MASK}) - ((pk >> 2) & {_T_MASK}) AS dt, level - {delta} AS lv,
    pk & 3 AS kd
  FROM st WHERE k >> 19 = pk >> 19
), g AS (
  SELECT q, t // {bucket} AS b, lv, GROUPING(b, lv) AS gid,
    max(lv << 17 | ({_T_MASK} - t)) FILTER (WHERE dt > 0) AS top,
    sum(lv * dt) AS level_s, sum(dt) FILTER (WHERE dt > 0) AS secs,
    count(*) FILTER (WHERE kd = 2) AS starts, count(*) FILTER (WHERE kd = 3) AS carried
  FROM seg GROUP BY GROUPING SETS ((q, b), (q, lv))
), agg AS (
  SELECT q, gid, b, lv, top >> 17 AS peak, {_T_MASK} - (top & {_T_MASK}) AS peak_t, level_s,
    secs, starts, carried
  FROM g WHERE (gid = 1 AND top >> 17 > 0) OR (gid = 2 AND lv > 0 AND secs > 0)
)
SELECT p.tenant, p.kind, p.fs, p.line, c.day, a.gid, a.b, a.lv AS level,
  CAST(a.peak AS INTEGER) AS peak, c.lo + a.peak_t AS peak_t,
  CAST(a.level_s AS BIGINT) AS level_s, CAST(a.secs AS BIGINT) AS secs,
  CAST(a.starts AS INTEGER) AS starts, CAST(a.carried AS INTEGER) AS carried
FROM agg a JOIN parts p ON p.pid = a.q >> 16 JOIN cal c ON c.i = a.q & 65535"""  # noqa: S608 -- names and SQL fragments from code; values bound


@contextmanager
def disabled() -> Iterator[None]:
    """Sweep line_calls instead of reading the summaries (tests and benchmarks compare both)."""
    tok = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(tok)


# ----------------------------------------------------------------------------- maintenance


def built(con: duckdb.DuckDBPyConnection) -> bool:
    """The summaries hold every call, cut in the current time zone."""
    row = con.execute("SELECT max(timezone) FROM coincidence_day_meta").fetchone()
    return row is not None and row[0] == get_settings().timezone


def _store(con: duckdb.DuckDBPyConnection, where: str, keep: str, args: dict) -> None:
    """Sweep the line_calls rows `where` selects and insert the summary rows of the kept
    (tenant, day)s."""
    args = {**args, **calendar_bounds(con, where, args)}
    sql = sweep_select(f"({intervals_sql(where)})", keep, str(BUCKET_S))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cd_agg AS {sql}", args)
    con.execute("""INSERT INTO coincidence_day_buckets
        SELECT tenant, kind, fs, line, day, CAST(b AS SMALLINT), peak, peak_t, level_s,
          starts, carried
        FROM _cd_agg WHERE gid = 1 ORDER BY day, tenant, kind, fs, line, b""")
    con.execute("""INSERT INTO coincidence_day_levels
        SELECT tenant, kind, fs, line, day, CAST(level AS INTEGER), secs
        FROM _cd_agg WHERE gid = 2 ORDER BY day, tenant, kind, fs, line, level""")


def _local_day(epoch_s: int) -> date:
    return datetime.fromtimestamp(epoch_s, ZoneInfo(get_settings().timezone)).date()


def _midnight(d: date) -> int:
    return int(datetime.combine(d, datetime.min.time(), ZoneInfo(get_settings().timezone))
               .timestamp())


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every summary from line_calls, a month of days at a time."""
    for t in TABLES:
        con.execute(f"DELETE FROM {t}")  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute("DELETE FROM coincidence_day_meta")
    d0, e1 = con.execute("SELECT min(day), max(end_s) FROM line_calls").fetchone()
    if d0 is not None:
        d1 = max(d0, _local_day(int(e1)))
        day = d0 - timedelta(days=1)  # an answer a little before a call's start day
        while day <= d1:
            last = min(d1, day + timedelta(days=CHUNK_DAYS - 1))
            lo, hi = _midnight(day), _midnight(last + timedelta(days=1))
            _store(con, "AND l.end_s > $lo AND l.start_s < $hi", "p.day BETWEEN $d0 AND $d1",
                   {"lo": lo, "hi": hi, "d0": day, "d1": last})
            day = last + timedelta(days=1)
    con.execute("INSERT INTO coincidence_day_meta (timezone) VALUES (?)",
                [get_settings().timezone])
    _drop(con)


_BATCH_KEYS = """(SELECT DISTINCT tenant, unique_id, leg_branch FROM calls
  WHERE list_contains($batches, batch_id))"""
_TOUCHED = f"""
SELECT l.tenant, l.day AS day0, least(l.start_s, coalesce(l.answer_s, l.start_s)) AS a,
  greatest(l.end_s, l.start_s + 1) AS e
FROM line_calls l SEMI JOIN {_BATCH_KEYS} b
  ON b.tenant = l.tenant AND b.unique_id = l.unique_id AND b.leg_branch = l.leg_branch"""  # noqa: S608 -- names and SQL fragments from code; values bound


def capture(con: duckdb.DuckDBPyConnection, batch_ids: int | list[int]) -> None:
    """Before a batch's derived rows are replaced: remember the intervals its calls held, so
    that `refresh` also recomputes the days a re-loaded call no longer touches."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cd_touched AS {_TOUCHED}",
                {"batches": _ids(batch_ids)})


def refresh(con: duckdb.DuckDBPyConnection, batch_ids: int | list[int]) -> None:
    """After a batch's line_calls were derived: recompute the summaries of every (tenant,
    day) its calls touch, before (`capture`) and after, midnight crossings included. A store
    whose summaries were never built (or were cut in another time zone) is rebuilt whole."""
    if not built(con):
        rebuild(con)
        return
    args = {"batches": _ids(batch_ids)}
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary "
                   "AND table_name = '_cd_touched'").fetchone()[0]:
        con.execute(f"INSERT INTO _cd_touched {_TOUCHED}", args)
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _cd_touched AS {_TOUCHED}", args)
    refresh_touched(con)


def refresh_touched(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the summaries of every (tenant, day) an interval of the temp table
    _cd_touched (tenant, day0, a, e) touches. Days far apart are swept separately, so that a
    batch of old and new days does not scan every call in between."""
    iv = "(SELECT tenant, '' AS kind, true AS fs, '' AS line, day0, a, e FROM _cd_touched)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _cd_scope AS {pieces_ctes(iv)}
        SELECT DISTINCT tenant, day FROM pieces
        UNION SELECT DISTINCT tenant, day0 FROM _cd_touched""")  # noqa: S608 -- names and SQL fragments from code; values bound
    for t in TABLES:
        con.execute(f"DELETE FROM {t} d USING _cd_scope s "  # noqa: S608 -- names and SQL fragments from code; values bound
                    f"WHERE d.tenant = s.tenant AND d.day = s.day")
    days = [r[0] for r in con.execute("SELECT DISTINCT day FROM _cd_scope ORDER BY 1").fetchall()]
    runs: list[list[date]] = []
    for d in days:
        if runs and (d - runs[-1][-1]).days <= 7:
            runs[-1].append(d)
        else:
            runs.append([d])
    where = ("AND l.end_s > $lo AND l.start_s < $hi "
             "AND l.tenant IN (SELECT tenant FROM _cd_scope)")
    keep = ("p.day BETWEEN $d0 AND $d1 AND EXISTS (SELECT 1 FROM _cd_scope s "
            "WHERE s.tenant = p.tenant AND s.day = p.day)")
    for run in runs:
        lo, hi = _midnight(run[0]), _midnight(run[-1] + timedelta(days=1))
        _store(con, where, keep, {"lo": lo, "hi": hi, "d0": run[0], "d1": run[-1]})
    _drop(con)


def _used(sql: str, args: dict) -> dict:
    """The named parameters `sql` refers to (DuckDB refuses unused ones)."""
    return {k: v for k, v in args.items() if re.search(rf"\${k}\b", sql)}


def _ids(batch_ids: int | list[int]) -> list[int]:
    return [int(batch_ids)] if isinstance(batch_ids, int) else [int(b) for b in batch_ids]


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    for t in _SCRATCH:
        con.execute(f"DROP TABLE IF EXISTS {t}")


# ----------------------------------------------------------------------------- reading

_PEAK_KEY = 1 << 40  # orders (peak, earliest second of the range) in one BIGINT

# A range of days from day rows: a day's bucket b lies (off + b * src) seconds after the
# range's first midnight (off = its own midnight's offset), so range bucket = that // bucket.
# Intervals carried over midnight count once, in the first day of the range.
_RANGE = f"""
WITH src AS ({{src}}),
d AS (
  SELECT day, CAST(epoch(CAST(day AS TIMESTAMPTZ)) AS BIGINT) - $lo AS off
  FROM (SELECT CAST(x AS DATE) AS day FROM range(CAST($d_from AS TIMESTAMP),
        CAST($d_to AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY) r(x))
), s AS (
  SELECT {{label}} AS ln, src.*, d.off FROM src JOIN d ON d.day = src.day
)
SELECT ln, (off + b * $src_bucket) // $bucket AS b, NULL AS level, 1 AS gid, max(peak) AS peak,
  sum(level_s) AS level_s, NULL AS secs,
  sum(starts + CASE WHEN day = CAST($d_from AS DATE) THEN carried ELSE 0 END) AS n,
  arg_max(peak_t, peak * {_PEAK_KEY} - (peak_t - $lo)) AS peak_t
FROM s WHERE gid = 1 GROUP BY ln, 2
UNION ALL
SELECT ln, NULL, level, 2, NULL, NULL, sum(secs), NULL, NULL FROM s WHERE gid = 2
GROUP BY ln, level"""  # noqa: S608 -- names and SQL fragments from code; values bound

_STORED = """
SELECT tenant, line, day, 1 AS gid, b, NULL AS level, peak, peak_t, level_s, 0 AS secs, starts,
  carried
FROM coincidence_day_buckets WHERE kind = $kind AND from_start = $fs {where}
UNION ALL
SELECT tenant, line, day, 2, NULL, level, NULL, NULL, 0, secs, 0, 0
FROM coincidence_day_levels WHERE kind = $kind AND from_start = $fs {where}"""


_LABEL = f"CASE WHEN line = '{ALL}' THEN line ELSE tenant || chr(31) || line END"


@dataclass(frozen=True)
class Ask:
    """What a coincidence report asks: the line key (gateway / out_config), the interval
    definition, the tenant (None = all), the chosen lines ([] = all), the range as local days
    and as epoch seconds [lo, hi), and the chart bucket in seconds."""

    kind: str
    from_start: bool
    tenant: str | None
    values: tuple[str, ...]
    d_from: date
    d_to: date
    lo: int
    hi: int
    bucket: int

    def args(self) -> dict:
        a: dict = {"kind": self.kind, "fs": self.from_start, "lo": self.lo,
                   "d_from": self.d_from.isoformat(), "d_to": self.d_to.isoformat(),
                   "bucket": self.bucket}
        if self.tenant is not None:
            a["tenant"] = self.tenant
        a.update({f"v{i}": v for i, v in enumerate(self.values)})
        return a


def _stored_where(ask: Ask, *, all_rows: bool = True) -> str:
    where = " AND day BETWEEN CAST($d_from AS DATE) AND CAST($d_to AS DATE)"
    if ask.tenant is not None:
        where += " AND tenant = $tenant"
    if ask.values:
        where += f" AND line IN ({', '.join(f'$v{i}' for i in range(len(ask.values)))})"
    elif not all_rows:
        where += f" AND line <> '{ALL}'"
    return where


def stored_sql(ask: Ask, *, all_rows: bool = True) -> tuple[str, dict]:
    """The report rows from the stored summaries: whole lines with their all-lines rows, or
    one line (then also the all-lines row); `all_rows=False`: the lines' own rows only."""
    src = _STORED.format(where=_stored_where(ask, all_rows=all_rows))
    if ask.values and all_rows:
        src = (f"SELECT src1.* REPLACE (CASE WHEN dup THEN '{ALL}' ELSE line END AS line) "  # noqa: S608 -- names and SQL fragments from code; values bound
               f"FROM ({src}) src1, (SELECT false AS dup UNION ALL SELECT true AS dup) x")
    return _RANGE.format(src=src, label=_LABEL), {**ask.args(), "src_bucket": BUCKET_S}


def swept_sql(ask: Ask, *, lines: bool = True, cal: dict | None = None) -> tuple[str, dict]:
    """The same rows from a sweep of line_calls over the range, per line and day (any subset
    of lines, any bucket that divides an hour, all lines across tenants); `lines=False`: the
    all-lines rows only."""
    where = " AND l.day <= CAST($d_to AS DATE) AND l.end_s > $lo AND l.start_s < $hi"
    if ask.tenant is not None:
        where += " AND l.tenant = $tenant"
    if ask.values:
        marks = ", ".join(f"$v{i}" for i in range(len(ask.values)))
        col = "l.gateway" if ask.kind == "gateway" else "l.out_config"
        where += f" AND {col} IN ({marks})"
    keep = "p.day BETWEEN CAST($d_from AS DATE) AND CAST($d_to AS DATE)"
    iv = intervals_sql(where, kind=ask.kind, fs=ask.from_start)
    src = sweep_select(f"({iv})", keep, "$bucket", all_tenants=ask.tenant is None, lines=lines)
    cal = cal or {"c0": ask.d_from - timedelta(days=1), "c1": ask.d_to + timedelta(days=1)}
    args = {k: v for k, v in ask.args().items() if k not in ("kind", "fs")}
    return (_RANGE.format(src=src, label=_LABEL),
            {**args, "hi": ask.hi, "src_bucket": ask.bucket, **cal})


def _stored_lines(con: duckdb.DuckDBPyConnection, ask: Ask) -> bool:
    """The summaries hold the lines' own rows: switched on, built, whole quarter hours."""
    return _enabled.get() and not ask.bucket % BUCKET_S and built(con)


def _stored_all(con: duckdb.DuckDBPyConnection, ask: Ask) -> bool:
    """... and the all-lines row too: whole lines or one line, of one tenant (the joint
    concurrency of several lines, or of several tenants' lines, is not stored)."""
    if len(ask.values) > 1:
        return False
    if ask.tenant is not None:
        return True
    args = {k: v for k, v in ask.args().items() if k in ("kind", "fs", "d_from", "d_to", "v0")}
    n = con.execute("SELECT count(DISTINCT tenant) FROM coincidence_day_buckets "  # noqa: S608 -- names and SQL fragments from code; values bound
                    f"WHERE kind = $kind AND from_start = $fs {_stored_where(ask)}",
                    args).fetchone()[0]
    return n <= 1


def rows(con: duckdb.DuckDBPyConnection, ask: Ask) -> list[tuple]:
    """The report rows (line, b, level, gid, peak, level_s, secs, n, peak_t): line is
    `tenant \\x1f name` or ALL; gid 1 = range bucket b (peak_t absolute), gid 2 = the
    seconds at a level. From the summaries when they hold everything; the lines' rows from
    the summaries and a sweep of the all-lines row only when they hold the lines; else a sweep
    of everything."""
    lines = not _stored_lines(con, ask)
    if not lines and _stored_all(con, ask):
        return con.execute(*stored_sql(ask)).fetchall()
    where = " AND l.day <= CAST($d_to AS DATE) AND l.end_s > $lo AND l.start_s < $hi"
    args = {"d_to": ask.d_to.isoformat(), "lo": ask.lo, "hi": ask.hi}
    if ask.tenant is not None:
        where += " AND l.tenant = $tenant"
        args["tenant"] = ask.tenant
    swept = con.execute(*swept_sql(ask, lines=lines, cal=calendar_bounds(con, where, args))
                        ).fetchall()
    if lines:
        return swept
    return con.execute(*stored_sql(ask, all_rows=False)).fetchall() + swept
