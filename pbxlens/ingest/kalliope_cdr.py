"""Kalliope CDR readers: CSV (summary and detailed), JSON, XML and XLSX.

Each reader lays the file out as the temp table `raw_rows`: one row per detail line (or per
call when the file has no path), every known field as text under its canonical name, plus
`_rec` (record number), `_line` (line number, header = 1) and `_extra` (unknown columns, JSON).
Rows that cannot even be split into fields land in the temp table `raw_rejects`.
The CSV path runs entirely inside DuckDB's reader, so large exports never pass through Python.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb

from pbxlens.ingest import xlsx_guard
from pbxlens.ingest.fields import ALL_FIELDS, DETAIL_FIELDS, DETAIL_SHORT, map_headers
from pbxlens.ingest.normalize import clamp_years
from pbxlens.ingest.sniff import (
    CHUNK,
    MAX_LINE_BYTES,
    FileKind,
    UnreadableFileError,
    csv_delimiter,
    csv_header,
)
from pbxlens.store import sql

RAW_COLUMNS = ("_row", "_rec", "_line", *ALL_FIELDS, "_extra")


@dataclass
class RawBatch:
    format: str
    rows_read: int | None  # None: counted after the scan (CSV)
    has_detail: bool
    years: tuple[int, int] | None = None  # None: scan raw_rows for them
    after_scan: Callable[[], None] | None = None
    # raw_rows columns NULL on every row (the CSV reader's row numbers, an export without
    # unknown columns): normalize leaves them out of its typed rows
    null_columns: tuple[str, ...] = ()


SCRATCH = ("raw_rows", "raw_csv", "raw_rejects", "csv_rejects", "csv_rejects_scan", "raw_arrow",
           "jrec", "jflat",
           "rej_lines", "rej_steps")


def drop_temp(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Drop these temp tables/views if they exist, whichever kind each one is."""
    found = con.execute(
        "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary AND list_contains(?, table_name)"
        " UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary"
        " AND list_contains(?, view_name)",
        [list(names), list(names)],
    ).fetchall()
    for name, kind in found:
        con.execute(f"DROP {kind} IF EXISTS {name}")


def reset_scratch(con: duckdb.DuckDBPyConnection) -> None:
    """Fresh scratch tables for one file: the readers of every format start from these."""
    drop_temp(con, SCRATCH)
    con.execute(
        "CREATE TEMP TABLE raw_rejects (_rec BIGINT, _line BIGINT, raw TEXT, reason TEXT)"
    )
    con.execute("CREATE TEMP TABLE rej_steps (k0 BIGINT, before BIGINT)")


# ---------------------------------------------------------------------------------------- CSV
def read_csv(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind) -> RawBatch:
    """Lay the CSV out as the view `raw_rows` over DuckDB's reader; nothing is read yet.

    The scan happens once, when normalize builds `norm`; `after_scan` then collects the lines
    the reader rejected (wrong column count, bad bytes) with their original bytes.
    """
    reset_scratch(con)
    headers = csv_header(path, kind)
    mapped = map_headers(headers)
    if "unique_id" not in mapped:
        raise UnreadableFileError(
            f"{path}: not a Kalliope CDR export (no unique_id / 'ID univoco' column in the header)"
        )
    names = [m or f"_x{i}" for i, m in enumerate(mapped)]
    source, cleanup = _utf8_copy(path, kind)
    present = [n for n in names if n in ALL_FIELDS]
    extras = [(h, n) for h, n in zip(headers, names, strict=True) if n.startswith("_x")]
    extra_sql = (
        "json_object(" + ", ".join(f"{sql.literal(h)}, {n}" for h, n in extras) + ")"
        if extras else "NULL"
    )
    cols = ", ".join((f'"{f}"' if f in present else f"NULL::TEXT AS {f}") for f in ALL_FIELDS)
    # read_csv arguments are bound as values; the view keeps them as literals.
    names_sql = "[" + ", ".join(sql.literal(n) for n in names) + "]"
    con.execute(
        # _row (file order) is numbered by normalize after the parallel parse: a window here
        # would serialize the whole scan.
        "CREATE TEMP VIEW raw_rows AS SELECT NULL::BIGINT AS _row,"  # noqa: S608 -- mapped field names; header texts and paths via sql.literal
        f" NULL::BIGINT AS _rec, NULL::BIGINT AS _line, {cols}, {extra_sql}::TEXT AS _extra"
        f" FROM read_csv({sql.literal(source)}, header = true, names = {names_sql},"
        f" all_varchar = true, delim = {sql.literal(kind.delimiter)}, quote = '\"', escape = '\"',"
        " strict_mode = true, store_rejects = true, rejects_table = 'csv_rejects',"
        f" rejects_scan = 'csv_rejects_scan', max_line_size = {MAX_LINE_BYTES})"
    )

    def after_scan() -> None:
        # DuckDB numbers reject lines by record (header = 1); a good row k sits after the
        # rejects whose own good-row count (line - 2 - j) is <= k. One reason per line: the
        # first error DuckDB met on it (it can report one line several times).
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rej_lines AS SELECT line,"
            " min(line_byte_position) AS pos,"
            " arg_min(error_type::TEXT || ': ' || split_part(error_message, chr(10), 1),"
            "         byte_position) AS reason,"
            " arg_min(error_type::TEXT, byte_position) AS kind,"
            " any_value(csv_line) AS csv_line FROM csv_rejects GROUP BY line"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rej_steps AS SELECT line - 2 - j AS k0,"
            " max(j + 1) AS before"
            " FROM (SELECT line, row_number() OVER (ORDER BY line) - 1 AS j FROM rej_lines)"
            " GROUP BY ALL"
        )
        _csv_rejects_to_raw(con, source, kind.delimiter, len(names))
        if cleanup:  # the transcoded copy: the rejected lines were read from it
            source.unlink(missing_ok=True)
        _refuse_layout_mismatch(con, path, kind.delimiter, len(names))

    has_detail = any(f in present for f in DETAIL_FIELDS)
    fmt = "kalliope_cdr_csv_detailed" if has_detail else "kalliope_cdr_csv"
    null_columns = ("_row", "_rec", "_line", *(() if extras else ("_extra",)))
    return RawBatch(fmt, None, has_detail, years=_sniff_years(path), after_scan=after_scan,
                    null_columns=null_columns)


_YEAR = re.compile(rb"(?:\b(19\d\d|20\d\d)-\d\d-\d\d)|(?:\d\d/\d\d/(19\d\d|20\d\d)\b)")


def _sniff_years(path: Path) -> tuple[int, int]:
    """The years the export covers, from its first and last 256 KiB (an export is a period:
    a month, a day). Stray dates outside still convert correctly, only slower."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(1 << 18)
        fh.seek(max(0, size - (1 << 18)))
        tail = fh.read()
    years = [int(a or b) for a, b in _YEAR.findall(head + tail)]
    return clamp_years(min(years, default=None), max(years, default=None))


def _csv_rejects_to_raw(con: duckdb.DuckDBPyConnection, source: Path, delimiter: str,
                        width: int) -> None:
    """Copy DuckDB's rejected lines to raw_rejects: the exact line of the file as it was
    decoded (`source` is UTF-8: the file itself or its transcoded copy) and one reason a user
    understands. A wrong column count is counted again on that line: DuckDB may name several
    contradictory counts for one line."""
    rejects = con.execute("SELECT line, pos, reason, kind, csv_line FROM rej_lines ORDER BY line"
                          ).fetchall()
    if not rejects:
        return
    out = []
    with source.open("rb") as fh:
        for line, pos, reason, kind, csv_line in rejects:
            raw = csv_line if pos is None else _record_at(fh, pos)
            if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
                found = len(next(csv.reader(io.StringIO(raw), delimiter=delimiter), []))
                words = "too many" if found > width else "too few"
                reason = f"{words} columns: {found} values where the header has {width}"
            out.append((line - 1, line, raw, reason))
    con.executemany("INSERT INTO raw_rejects VALUES (?, ?, ?, ?)", out)


def _refuse_layout_mismatch(con: duckdb.DuckDBPyConnection, path: Path, delimiter: str,
                            width: int) -> None:
    """No row fits the header and every row has the wrong number of columns: the rows are
    laid out otherwise (another delimiter than the header's): one file error, not a
    quarantine of every row."""
    good, bad, counted = con.execute(
        "SELECT (SELECT count(*) FROM norm), count(*), count(*) FILTER"
        " (WHERE kind IN ('TOO MANY COLUMNS', 'MISSING COLUMNS')) FROM rej_lines").fetchone()
    if good or not bad or counted < bad:
        return
    sample = con.execute("SELECT raw FROM raw_rejects ORDER BY _line LIMIT 1").fetchone()[0]
    rows_delim = csv_delimiter(sample or "")
    hint = (f"; the rows seem separated by {rows_delim!r}, the header by {delimiter!r}"
            if rows_delim != delimiter else "")
    raise UnreadableFileError(
        f"{path}: no row has the header's {width} columns{hint}: the file was not loaded")


def _record_at(fh, pos: int) -> str:
    """The record starting near byte `pos`: DuckDB 1.5 reports one byte past the line's start
    (a later version may not), and a quoted field may carry line breaks."""
    start = pos
    if pos > 0:
        fh.seek(max(pos - 2, 0))
        before = fh.read(min(pos, 2))  # the bytes at pos-2 (when there) and pos-1
        if before[-1:] not in (b"\n", b"\r") and (pos == 1 or before[:1] in (b"\n", b"\r")):
            start = pos - 1
    fh.seek(start)
    data = fh.readline(MAX_LINE_BYTES)
    while data.count(b'"') % 2 and len(data) < MAX_LINE_BYTES and (more := fh.readline(MAX_LINE_BYTES)):
        data += more
    return data.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")


def _utf8_copy(path: Path, kind: FileKind) -> tuple[Path, bool]:
    """DuckDB reads UTF-8 (BOM or not); cp1252 and UTF-16 are transcoded to a temp file."""
    if kind.encoding not in ("cp1252", "utf-16"):
        return path, False
    tmp = tempfile.NamedTemporaryFile(prefix="pbxlens-", suffix=".csv", delete=False)  # noqa: SIM115
    with path.open("r", encoding=kind.encoding, errors="replace", newline="") as src, tmp:
        while chunk := src.read(CHUNK):
            tmp.write(chunk.encode("utf-8"))
    return Path(tmp.name), True


# ------------------------------------------------------------------- JSON / XML / XLSX records
class Collector:
    """Accumulates flattened rows (one per detail line) for the Arrow hand-off."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {c: [] for c in RAW_COLUMNS}
        self.rejects: list[tuple] = []
        self.has_detail = False
        self.records = 0

    def add_call(self, rec: int, line: int | None, call: dict, details: list[dict]) -> None:
        self.records += 1
        call_map = _canonical(call, detail=False)
        extra = {k: v for k, v in call.items() if k not in call_map[1] and k != "details"}
        rows = [_canonical(d, detail=True)[0] for d in details] or [{}]
        self.has_detail = self.has_detail or bool(details)
        for drow in rows:
            cols = self.columns
            cols["_row"].append(len(cols["_row"]))
            cols["_rec"].append(rec)
            cols["_line"].append(line)
            for f in ALL_FIELDS:
                cols[f].append(drow.get(f) if f in DETAIL_FIELDS else call_map[0].get(f))
            cols["_extra"].append(json.dumps(extra, ensure_ascii=False) if extra else None)

    def reject(self, rec: int | None, line: int | None, raw: str, reason: str) -> None:
        self.records += 1
        self.rejects.append((rec, line, raw[:100_000], reason))

    def load(self, con: duckdb.DuckDBPyConnection) -> None:
        import pyarrow as pa  # only the JSON/XML/XLSX paths need it

        table = pa.table({c: pa.array(v, type=pa.int64() if c in ("_row", "_rec", "_line") else pa.string())
                          for c, v in self.columns.items()})
        con.register("raw_arrow", table)
        con.execute("CREATE TEMP TABLE raw_rows AS SELECT * FROM raw_arrow")
        con.unregister("raw_arrow")
        if self.rejects:
            con.executemany("INSERT INTO raw_rejects VALUES (?, ?, ?, ?)", self.rejects)


def cell_text(value: object) -> str | None:
    """A cell or JSON value as the text an export would carry."""
    if type(value) is str:  # the common case first
        return value.strip()
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _canonical(obj: dict, *, detail: bool) -> tuple[dict[str, str | None], set[str]]:
    pairs = _key_map(tuple(obj), detail)
    return {m: cell_text(obj[k]) for k, m in pairs}, {k for k, _m in pairs}


@lru_cache(maxsize=256)
def _key_map(keys: tuple[str, ...], detail: bool) -> tuple[tuple[str, str], ...]:
    """(key, canonical field) for the known keys of one object shape (cached: a file has few)."""
    if detail:
        mapped = map_headers([DETAIL_SHORT.get(k.lower()) or k for k in keys])
        # A detail key may also be a call-field spelling ("answered_by"): move it to detail_.
        mapped = [
            (m if m is None or m.startswith("detail_") else DETAIL_SHORT.get(m, None))
            for m in mapped
        ]
    else:
        mapped = map_headers(list(keys))
    return tuple((k, m) for k, m in zip(keys, mapped, strict=True) if m)


def read_json(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind) -> RawBatch:
    reset_scratch(con)
    _refuse_unknown_json(path, kind)
    if _json_fast_path_fits(path, kind):
        try:
            return _read_json_in_duckdb(con, path)
        except duckdb.Error:
            reset_scratch(con)  # damaged somewhere: the Python reader salvages what it can
    text = path.read_bytes().decode(py_encoding(kind), errors="replace").lstrip("\ufeff")
    col = Collector()
    try:
        for rec, line, item, error in json_items(text):
            if error:
                col.reject(rec, line, item, error)
            elif not isinstance(item, dict):
                col.reject(rec, line, json.dumps(item)[:2000], "record is not a JSON object")
            else:
                details = item.get("details") or item.get("call_details") or []
                if not isinstance(details, list):
                    details = []
                col.add_call(rec, line, item, [d for d in details if isinstance(d, dict)])
    except UnreadableFileError as exc:
        raise UnreadableFileError(f"{path}: {exc}") from None
    except RecursionError:
        raise UnreadableFileError(f"{path}: JSON nested too deep to be a CDR export") from None
    if not col.records:
        raise UnreadableFileError(f"{path}: no CDR records in the JSON")
    if not col.columns["_rec"]:
        raise UnreadableFileError(f"{path}: no complete call in the JSON ({col.rejects[0][3]})")
    col.load(con)
    return RawBatch("kalliope_cdr_json", col.records, col.has_detail)


def _refuse_unknown_json(path: Path, kind: FileKind) -> None:
    """A JSON whose first record names neither a start time nor a status is another kind of
    file (e.g. the bodies of feedback requests): one file error, not a quarantined row each."""
    with path.open("rb") as fh:
        head = fh.read(65536).decode(py_encoding(kind), errors="ignore").lstrip("\ufeff \t\r\n[")
    try:
        first, _end = json.JSONDecoder().raw_decode(head)
    except ValueError:
        return  # a first record longer than the head, or damaged: the reader will say
    if not isinstance(first, dict):
        return
    mapped = set(map_headers([str(k) for k in first]))
    if mapped & {"start_datetime", "status"}:
        return
    hint = ("; it holds request bodies (feedback or dynamic routing), which come in through"
            " their webhook" if "body" in first else "")
    keys = ", ".join(list(map(str, first))[:8])
    raise UnreadableFileError(f"{path}: not a CDR export: its records have no start_datetime or"
                              f" status (keys: {keys}){hint}")


def _json_fast_path_fits(path: Path, kind: FileKind) -> bool:
    """DuckDB's JSON reader suits a UTF-8 array whose unique_id is a string (a JSON number
    would lose its trailing zeros: 1455617312.30 is not 1455617312.3)."""
    if kind.encoding != "utf-8":
        return False
    with path.open("rb") as fh:
        head = fh.read(65536).decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if not head.startswith("["):
        return False
    try:
        first, _end = json.JSONDecoder().raw_decode(head, head.index("{"))
    except (ValueError, json.JSONDecodeError):
        return False
    return isinstance(first, dict) and isinstance(first.get("unique_id"), str)


def _jpath(key: str) -> str:
    return sql.literal("$." + json.dumps(key))


def _read_json_in_duckdb(con: duckdb.DuckDBPyConnection, path: Path) -> RawBatch:
    """An array of call objects, flattened to one row per detail entirely inside DuckDB."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jrec AS SELECT row_number() OVER () AS _rec, json"
        " FROM read_json_objects(?, format = 'array')", [str(path)])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jflat AS SELECT _rec, json, unnest(CASE WHEN"
        " json_array_length(json, '$.details') > 0 THEN json_extract(json, '$.details[*]')"
        " ELSE [NULL::JSON] END) AS d FROM jrec")
    top = [k for (k,) in con.execute(
        "SELECT DISTINCT unnest(json_keys(json)) FROM jrec ORDER BY 1").fetchall()]
    sub = [k for (k,) in con.execute(
        "SELECT DISTINCT unnest(json_keys(d)) FROM jflat WHERE d IS NOT NULL ORDER BY 1").fetchall()]
    call_map = dict((m, k) for k, m in _key_map(tuple(k for k in top if k != "details"), False))
    detail_map = dict((m, k) for k, m in _key_map(tuple(sub), True))
    cols = []
    for f in ALL_FIELDS:
        if f in DETAIL_FIELDS and f in detail_map:
            cols.append(f"trim(json_extract_string(d, {_jpath(detail_map[f])})) AS {f}")
        elif f in call_map:
            cols.append(f"trim(json_extract_string(json, {_jpath(call_map[f])})) AS {f}")
        else:
            cols.append(f"NULL::TEXT AS {f}")
    unknown = [k for k in top if k not in call_map.values() and k not in ("details", "call_details")]
    extra = ("json_object(" + ", ".join(f"{sql.literal(k)}, json_extract(json, {_jpath(k)})"
                                        for k in unknown) + ")::TEXT") if unknown else "NULL::TEXT"
    con.execute(
        f"CREATE TEMP TABLE raw_rows AS SELECT row_number() OVER () - 1 AS _row, _rec,"  # noqa: S608 -- mapped field names; header texts and paths via sql.literal
        f" NULL::BIGINT AS _line, {', '.join(cols)}, {extra} AS _extra FROM jflat")
    rows = con.execute("SELECT count(*) FROM jrec").fetchone()[0]
    has_detail = bool(detail_map) and con.execute(
        "SELECT count(*) > 0 FROM jflat WHERE d IS NOT NULL").fetchone()[0]
    if not rows:
        raise UnreadableFileError(f"{path}: no CDR records in the JSON")
    return RawBatch("kalliope_cdr_json", rows, has_detail)


def json_items(text: str) -> Iterator[tuple[int, int | None, object, str | None]]:
    """(record, line, value, error) for each call object; salvages a truncated array."""
    dec = json.JSONDecoder(parse_float=str, parse_int=str)
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" in stripped:  # JSON lines
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield n, n, dec.decode(line), None
                except json.JSONDecodeError as exc:
                    yield n, n, line, f"invalid JSON: {exc.msg}"
        return
    try:
        doc = dec.decode(stripped)
    except json.JSONDecodeError:
        doc = None
    if doc is not None:
        if isinstance(doc, dict):
            doc = doc.get("calls") or doc.get("cdr") or doc.get("data") or [doc]
        if not isinstance(doc, list):
            raise UnreadableFileError("JSON document is neither an array nor an object of calls")
        for n, item in enumerate(doc, start=1):
            yield n, None, item, None
        return
    # Truncated or damaged array: take whole objects one by one, quarantine the tail.
    pos = stripped.find("[")
    if pos < 0:
        raise UnreadableFileError("invalid JSON and not an array of calls")
    pos += 1
    n = 0
    while True:
        while pos < len(stripped) and stripped[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(stripped) or stripped[pos] == "]":
            return
        n += 1
        try:
            item, end = dec.raw_decode(stripped, pos)
        except json.JSONDecodeError as exc:
            line = stripped.count("\n", 0, pos) + 1
            yield n, line, stripped[pos:], f"truncated or invalid JSON from here: {exc.msg}"
            return
        yield n, None, item, None
        pos = end


def read_xml(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind) -> RawBatch:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as DET

    reset_scratch(con)
    col = Collector()
    n = 0
    try:
        for _event, elem in DET.iterparse(str(path), events=("end",)):
            if elem.tag != "call":
                continue
            n += 1
            call: dict[str, object] = {}
            details: list[dict] = []
            for child in elem:
                if child.tag in ("details", "call_details"):
                    details.extend({g.tag: (g.text or "") for g in d} for d in child)
                else:
                    call[child.tag] = child.text or ""
            col.add_call(n, None, call, details)
            elem.clear()
    except DefusedXmlException as exc:
        raise UnreadableFileError(f"{path}: refused unsafe XML ({type(exc).__name__})") from None
    except ParseError as exc:
        if n == 0 and not col.records:
            raise UnreadableFileError(f"{path}: not well-formed XML ({exc})") from None
        tail = path.read_bytes()[-2000:].decode("utf-8", errors="backslashreplace")
        col.reject(n + 1, exc.position[0] if exc.position else None, tail,
                   f"truncated or malformed XML after call {n}: {exc}")
    if not col.records:
        raise UnreadableFileError(f"{path}: no <call> elements in the XML")
    col.load(con)
    return RawBatch("kalliope_cdr_xml", col.records, col.has_detail)


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind) -> RawBatch:
    """The CSV layouts in a workbook (calamine reads it, ~20x faster than openpyxl). Sheets
    after the first continue it when they carry the same header (an export past Excel's row
    limit)."""
    reset_scratch(con)
    wb = xlsx_guard.open_workbook(path)  # size checks before calamine allocates
    col = Collector()
    headers: list[str] | None = None
    mapped: list[str | None] = []
    line_base = 0
    for sheet_name in wb.sheet_names:
        rows = wb.get_sheet_by_name(sheet_name).iter_rows()
        first = next(rows, None)
        if not first:
            continue
        this_headers = [cell_text(h) or "" for h in first]
        if headers is None:
            headers, mapped = this_headers, map_headers(this_headers)
            if "unique_id" not in mapped:
                raise UnreadableFileError(
                    f"{path}: not a Kalliope CDR export (no unique_id / 'ID univoco' column)"
                )
        elif this_headers != headers:
            continue  # another table in the workbook, not a continuation
        width = len(headers)
        for line, values in enumerate(rows, start=2):
            if all(v is None or v == "" for v in values):
                continue
            if len(values) > width and any(v not in (None, "") for v in values[width:]):
                col.reject(line_base + line - 1, line,
                           json.dumps([cell_text(v) for v in values], ensure_ascii=False),
                           f"TOO MANY COLUMNS: expected {width} in sheet {sheet_name}")
                continue
            col.records += 1
            cols = col.columns
            cols["_row"].append(len(cols["_row"]))
            cols["_rec"].append(line_base + line - 1)
            cols["_line"].append(line)
            extra = {}
            by_field: dict[str, str | None] = {}
            for h, m, v in zip(headers, mapped, values, strict=False):
                if m:
                    by_field[m] = cell_text(v) or None
                elif v not in (None, ""):
                    extra[h] = cell_text(v)
            for f in ALL_FIELDS:
                cols[f].append(by_field.get(f))
            cols["_extra"].append(json.dumps(extra, ensure_ascii=False) if extra else None)
        line_base += 10**7  # records of later sheets keep distinct numbers
    if headers is None:
        raise UnreadableFileError(f"{path}: the workbook is empty")
    col.has_detail = any(m in DETAIL_FIELDS for m in mapped if m)
    col.load(con)
    fmt = "kalliope_cdr_xlsx_detailed" if col.has_detail else "kalliope_cdr_xlsx"
    return RawBatch(fmt, col.records, col.has_detail)


def py_encoding(kind: FileKind) -> str:
    return {"utf-8": "utf-8-sig", "binary": "utf-8"}.get(kind.encoding, kind.encoding)


READERS = {"csv": read_csv, "json": read_json, "xml": read_xml, "xlsx": read_xlsx}
