"""Kalliope Call Center CDR: detection, readers (CSV, CSV detailed, XLSX, XLSX detailed, JSON,
XML) and the load into `queue_calls` / `cc_agent_legs` (migration 0005).

Readers lay a file out as the temp table `cc_raw`: one row per operator event (or per queue
call when it has none), every known field as text under its canonical name
(`callcenter_fields`), plus `_rec` (record number), `_line` (line, header = 1) and `_extra`
(unknown columns, JSON). Normalization, validation (a reason per row), idempotency and the
derived seconds are set-based SQL in DuckDB, in the batch's transaction, as for the CDR.

Natural key of a queue call: (tenant, unique_id, queue key, enter instant); the queue key is
the queue id, else its name, else '' (a call in an empty queue, C23). A queue call already
stored with the same content (its fields and its set of events) is a duplicate; with other
content the newer load replaces it and its events. A file without events (summary layout)
keeps the events already stored for a call it replaces.
"""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pbxlens.ingest import xlsx_guard
from pbxlens.ingest.callcenter_fields import (
    ALL_FIELDS,
    DIRECTIONS,
    EVENT_FIELDS,
    EVENT_SHORT,
    QUEUE_CALL_FIELDS,
    is_callcenter_header,
    map_headers,
)
from pbxlens.ingest.kalliope_cdr import cell_text, drop_temp
from pbxlens.ingest.normalize import clamp_years, out_of_range_sql
from pbxlens.ingest.sniff import FileKind, UnreadableFileError, csv_header
from pbxlens.models import timezone, vocabulary

RAW_COLUMNS = ("_rec", "_line", *ALL_FIELDS, "_extra")
SCRATCH = ("cc_raw", "cc_raw_arrow", "cc_rejects", "cc_norm", "cc_qc", "cc_ev", "cc_class",
           "cc_vmap")
_JSON_EVENTS = ("operator_events", "events", "details")


# ----------------------------------------------------------------------------- detection
def detect(path: Path, kind: FileKind) -> bool:
    """True when the file is a Call Center CDR (not a plain CDR): see is_callcenter_header."""
    try:
        if kind.kind == "csv":
            return is_callcenter_header(csv_header(path, kind))
        if kind.kind == "json":
            return is_callcenter_header(_json_first_keys(path, kind))
        if kind.kind == "xml":
            with path.open("rb") as fh:
                head = fh.read(4096).decode("utf-8", errors="ignore")
            return "<callcenter_cdr" in head or "<queue_call>" in head
        if kind.kind == "xlsx":
            return is_callcenter_header(xlsx_header(path))
    except (OSError, ValueError, zipfile.BadZipFile):
        return False
    return False


def _json_first_keys(path: Path, kind: FileKind) -> list[str]:
    enc = "utf-16" if kind.encoding == "utf-16" else (
        "cp1252" if kind.encoding == "cp1252" else "utf-8")
    with path.open("rb") as fh:
        head = fh.read(65536).decode(enc, errors="ignore").lstrip("\ufeff \t\r\n")
    start = head.find("{")
    if start < 0:
        return []
    try:
        first, _end = json.JSONDecoder().raw_decode(head, start)
    except json.JSONDecodeError:
        # a first object longer than the head: its keys up to there are enough
        return [k for k in QUEUE_CALL_FIELDS if f'"{k}"' in head[start:start + 4096]]
    return list(first) if isinstance(first, dict) else []


def xlsx_header(path: Path) -> list[str]:
    """The first row of the first worksheet, read by streaming the sheet's XML (a workbook is
    not loaded whole just to know its kind)."""
    from defusedxml import ElementTree as DET

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet") and
                        n.endswith(".xml"))
        if not sheets:
            return []
        sheet = "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else sheets[0]
        cells: list[tuple[str, str]] = []  # (type, value)
        with z.open(sheet) as fh:
            for _ev, el in DET.iterparse(fh, events=("end",)):
                if el.tag == ns + "c":
                    t = el.get("t", "")
                    if t == "inlineStr":
                        cells.append(("s", "".join(x.text or "" for x in el.iter(ns + "t"))))
                    else:
                        v = el.find(ns + "v")
                        cells.append((t, v.text if v is not None and v.text else ""))
                elif el.tag == ns + "row":
                    break
        need = {int(v) for t, v in cells if t == "s" and v.isdigit()}
        shared: list[str] = []
        if need and "xl/sharedStrings.xml" in names:
            with z.open("xl/sharedStrings.xml") as fh:
                for _ev, el in DET.iterparse(fh, events=("end",)):
                    if el.tag == ns + "si":
                        shared.append("".join(x.text or "" for x in el.iter(ns + "t")))
                        el.clear()
                        if len(shared) > max(need):
                            break
    out = []
    for t, v in cells:
        if t == "s" and v.isdigit() and int(v) < len(shared):
            out.append(shared[int(v)])
        else:
            out.append(v)
    return out


# ----------------------------------------------------------------------------- readers
@dataclass
class CcBatch:
    format: str
    rows_read: int
    has_events: bool


class _Collector:
    def __init__(self) -> None:
        self.columns: dict[str, list] = {c: [] for c in RAW_COLUMNS}
        self.rejects: list[tuple] = []
        self.records = 0
        self.has_events = False

    def add(self, rec: int, line: int | None, fields: dict, extra: dict | None) -> None:
        cols = self.columns
        cols["_rec"].append(rec)
        cols["_line"].append(line)
        for f in ALL_FIELDS:
            cols[f].append(fields.get(f))
        cols["_extra"].append(json.dumps(extra, ensure_ascii=False) if extra else None)

    def add_call(self, rec: int, line: int | None, obj: dict) -> None:
        """A JSON/XML queue call with its nested events."""
        self.records += 1
        events = next((obj[k] for k in _JSON_EVENTS if isinstance(obj.get(k), list)), [])
        keys = [k for k in obj if k not in _JSON_EVENTS]
        mapped = map_headers(keys)
        call = {m: cell_text(obj[k]) or None for k, m in zip(keys, mapped, strict=True)
                if m in QUEUE_CALL_FIELDS}
        extra = {k: obj[k] for k, m in zip(keys, mapped, strict=True) if m is None}
        rows = []
        for ev in events:
            if isinstance(ev, dict):
                ek = [EVENT_SHORT.get(k.lower(), k) for k in ev]
                em = map_headers([k if k.startswith("event_") else f"event_{k}" for k in ek])
                rows.append({m: cell_text(v) or None for m, v in zip(em, ev.values(), strict=True)
                             if m in EVENT_FIELDS})
        self.has_events = self.has_events or bool(rows)
        for r in rows or [{}]:
            self.add(rec, line, {**call, **r}, extra)

    def reject(self, rec: int | None, line: int | None, raw: str, reason: str) -> None:
        self.records += 1
        self.rejects.append((rec, line, raw[:100_000], reason))

    def load(self, con: duckdb.DuckDBPyConnection) -> None:
        import pyarrow as pa  # loaded with the first Call Center file

        table = pa.table({c: pa.array(v, type=pa.int64() if c in ("_rec", "_line")
                                      else pa.string()) for c, v in self.columns.items()})
        con.register("cc_raw_arrow", table)
        con.execute("CREATE OR REPLACE TEMP TABLE cc_raw AS SELECT row_number() OVER () - 1"
                    " AS _row, * FROM cc_raw_arrow")
        con.unregister("cc_raw_arrow")
        con.execute("CREATE OR REPLACE TEMP TABLE cc_rejects"
                    " (_rec BIGINT, _line BIGINT, raw TEXT, reason TEXT)")
        if self.rejects:
            con.executemany("INSERT INTO cc_rejects VALUES (?, ?, ?, ?)", self.rejects)


def _rows_layout(col: _Collector, headers: list[str], rows, path: Path) -> None:
    """CSV/XLSX rows (header already consumed): one record per row."""
    mapped = map_headers(headers)
    if "unique_id" not in mapped:
        raise UnreadableFileError(f"{path}: not a Call Center CDR (no unique_id column)")
    width = len(headers)
    cols = col.columns
    slots = [(cols[m], i) for i, m in enumerate(mapped) if m]
    absent = [cols[f] for f in ALL_FIELDS if f not in mapped]
    unknown = [i for i, m in enumerate(mapped) if not m]
    for line, values in rows:
        if all(v in (None, "") for v in values):
            continue
        rec = line - 1
        if (len(values) != width and any(v not in (None, "") for v in values[width:])) or (
                len(values) < width):
            col.reject(rec, line, json.dumps([cell_text(v) for v in values], ensure_ascii=False),
                       f"wrong number of columns: expected {width}, found {len(values)}")
            continue
        col.records += 1
        cols["_rec"].append(rec)
        cols["_line"].append(line)
        for lst, i in slots:  # column-wise appends: no per-row dict (the hot loop)
            v = values[i]
            lst.append((v.strip() or None) if type(v) is str else (cell_text(v) or None))
        for lst in absent:
            lst.append(None)
        extra = {headers[i]: cell_text(values[i]) for i in unknown if values[i] not in (None, "")}
        cols["_extra"].append(json.dumps(extra, ensure_ascii=False) if extra else None)
    col.has_events = any(m in EVENT_FIELDS for m in mapped if m)


def read_csv(con, path: Path, kind: FileKind) -> CcBatch:
    enc = {"utf-8": "utf-8-sig"}.get(kind.encoding, kind.encoding)
    col = _Collector()
    with path.open("r", encoding=enc, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=kind.delimiter)
        headers = [h.strip() for h in next(reader, [])]
        _rows_layout(col, headers, ((n, r) for n, r in enumerate(reader, start=2)), path)
    col.load(con)
    return CcBatch("kalliope_cc_csv_detailed" if col.has_events else "kalliope_cc_csv",
                   col.records, col.has_events)


def read_xlsx(con, path: Path, kind: FileKind) -> CcBatch:
    wb = xlsx_guard.open_workbook(path)  # size checks before calamine allocates
    col = _Collector()
    headers: list[str] | None = None
    base = 0
    for name in wb.sheet_names:
        it = iter(wb.get_sheet_by_name(name).iter_rows())
        first = next(it, None)
        if not first:
            continue
        these = [cell_text(h) or "" for h in first]
        if headers is None:
            headers = these
        elif these != headers:
            continue  # another table, not a continuation of the first sheet
        _rows_layout(col, headers, ((base + n, r) for n, r in enumerate(it, start=2)), path)
        base += 10**7  # records of later sheets keep distinct numbers
    if headers is None:
        raise UnreadableFileError(f"{path}: the workbook is empty")
    col.load(con)
    return CcBatch("kalliope_cc_xlsx_detailed" if col.has_events else "kalliope_cc_xlsx",
                   col.records, col.has_events)


def read_json(con, path: Path, kind: FileKind) -> CcBatch:
    from pbxlens.ingest.kalliope_cdr import json_items, py_encoding

    text = path.read_bytes().decode(py_encoding(kind), errors="replace").lstrip("\ufeff")
    col = _Collector()
    for rec, line, item, error in json_items(text):
        if error:
            col.reject(rec, line, str(item), error)
        elif not isinstance(item, dict):
            col.reject(rec, line, json.dumps(item)[:2000], "record is not a JSON object")
        else:
            col.add_call(rec, line, item)
    if not col.columns["_rec"]:
        raise UnreadableFileError(f"{path}: no complete queue call in the JSON")
    col.load(con)
    return CcBatch("kalliope_cc_json", col.records, col.has_events)


def read_xml(con, path: Path, kind: FileKind) -> CcBatch:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as DET

    col = _Collector()
    n = 0
    try:
        for _ev, el in DET.iterparse(str(path), events=("end",)):
            if el.tag != "queue_call":
                continue
            n += 1
            obj: dict = {}
            for child in el:
                if child.tag in _JSON_EVENTS:
                    obj["operator_events"] = [{g.tag: g.text or "" for g in e} for e in child]
                else:
                    obj[child.tag] = child.text or ""
            col.add_call(n, None, obj)
            el.clear()
    except DefusedXmlException as exc:
        raise UnreadableFileError(f"{path}: refused unsafe XML ({type(exc).__name__})") from None
    except ParseError as exc:
        if not col.records:
            raise UnreadableFileError(f"{path}: not well-formed XML ({exc})") from None
        tail = path.read_bytes()[-2000:].decode("utf-8", errors="backslashreplace")
        col.reject(n + 1, exc.position[0] if exc.position else None, tail,
                   f"truncated or malformed XML after queue call {n}: {exc}")
    if not col.columns["_rec"]:
        raise UnreadableFileError(f"{path}: no <queue_call> elements in the XML")
    col.load(con)
    return CcBatch("kalliope_cc_xml", col.records, col.has_events)


READERS = {"csv": read_csv, "xlsx": read_xlsx, "json": read_json, "xml": read_xml}


# ----------------------------------------------------------------------------- normalize
QC_TS = ("enter_datetime", "welcome_end_datetime", "enqueue_datetime", "answer_datetime",
         "exit_datetime")
EV_TS = ("event_ring_datetime", "event_answer_datetime", "event_end_datetime")
ANSWERED = "'NCC-AGENT', 'NCC-CALLER', 'NCC', 'ANSWER', 'TRANSFER', 'TRASFERIMENTO'"

# Queue-call outcome -> report block (the CDR queue reports' blocks, §0.5 rules 5-6): a
# transfer is TRASFERIMENTO, a max-wait timeout NOANSWER (Nexus "No answered"), join-empty
# QUEUE_JOINEMPTY; CANCELED_NOWAIT is its own block (L5696).
Q_BLOCK = """CASE WHEN x IN ('NCC', 'NCC-AGENT', 'NCC-CALLER', 'ANSWER') THEN 'NCC'
    WHEN x IN ('TRANSFER', 'ATXFER', 'BLINDXFER') THEN 'TRASFERIMENTO'
    WHEN x IN ('TIMEOUT', 'NOANSWER') THEN 'NOANSWER'
    WHEN x = 'JOINEMPTY' THEN 'QUEUE_JOINEMPTY'
    WHEN x = 'CANCELED_NOWAIT' THEN 'CANCELED NOWAIT'
    WHEN x IS NULL OR x IN ('?', '??') THEN '?' ELSE x END"""
# Operator-event outcome -> block (C15, C16): the CC CDR writes TIMEOUT itself, so NOANSWER
# stays NOANSWER here (unlike the CDR-derived legs).
E_BLOCK = """CASE WHEN x = 'ATXFER' THEN 'TRASFERIMENTO' WHEN x = 'BLINDXFER' THEN 'TRANSFER'
    WHEN x = 'ANSWERED_ELSEWHERE' THEN 'ANSWERED ELSEWHERE'
    WHEN x = 'CANCELED_NOWAIT' THEN 'CANCELED NOWAIT' WHEN x = 'DECLINED' THEN 'REFUSED'
    WHEN x IN ('UFWD', 'CFWD2MOBILE', 'FASTXFER2MOBILE') THEN 'FORWARD'
    WHEN x IS NULL OR x IN ('?', '??') THEN '?' ELSE x END"""


def _sec(a: str, b: str) -> str:
    """Whole seconds from a to b (as date_diff('second') counts them, by epoch arithmetic:
    date_diff on TIMESTAMPTZ does calendar work), never negative."""
    return (f"greatest(coalesce(CAST(floor(epoch_us({b}) / 1000000)"
            f" - floor(epoch_us({a}) / 1000000) AS INTEGER), 0), 0)")


def _years(con) -> tuple[int, int]:
    lo, hi = con.execute("SELECT min(year(pbx_local(enter_datetime))),"
                         " max(year(pbx_local(exit_datetime))) FROM cc_raw").fetchone()
    return clamp_years(lo, hi)


def stage(con: duckdb.DuckDBPyConnection, *, tz: str, default_tenant: str = "default") -> None:
    """cc_raw -> cc_norm (one row per raw row, with a reason when bad) -> cc_qc (queue calls)
    and cc_ev (events) of the good rows."""
    _map_vocabulary(con)
    _normalize(con, tz=tz, default_tenant=default_tenant)
    _group(con)


def _map_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    """cc_vmap(col, raw, code): this file's spellings of outcomes, statuses and directions."""
    con.execute("CREATE OR REPLACE TEMP TABLE cc_vmap (col TEXT, raw TEXT, code TEXT)")
    rows = []
    for col, scope in (("exit_cause", "exit_cause"), ("event_outcome", "exit_cause"),
                       ("status", "status")):
        for (raw,) in con.execute(f"SELECT DISTINCT {col} FROM cc_raw WHERE {col} IS NOT NULL"  # noqa: S608 -- names and SQL fragments from code; values bound
                                  ).fetchall():
            rows.append((col, raw, vocabulary.normalize(scope, raw)))
    for code, spellings in DIRECTIONS.items():
        rows.extend(("direction", s, code) for s in spellings)
    con.executemany("INSERT INTO cc_vmap VALUES (?, ?, ?)", rows)


def _normalize(con: duckdb.DuckDBPyConnection, *, tz: str, default_tenant: str) -> None:
    """cc_norm: every raw row typed, with the reason it is rejected (NULL when good)."""
    y0, y1 = _years(con)

    def inst(f: str) -> str:
        return (f"CASE WHEN pbx_local({f}) IS NOT NULL THEN "
                f"{timezone.utc_sql(f'pbx_local({f})', tz, y0, y1)} ELSE pbx_abs({f}) END")

    def bad(f: str) -> str:
        return (f"CASE WHEN {f} IS NOT NULL AND p_{f} IS NULL"
                f" THEN 'unparsable {f} ' || to_json({f})::TEXT END")

    ev_any = (*EV_TS, "event_outcome", "event_operator_exten", "event_operator_account")
    has_ev = "coalesce(" + ", ".join(ev_any) + ") IS NOT NULL"
    checks = [
        "CASE WHEN unique_id IS NULL THEN 'missing unique_id' END",
        "CASE WHEN enter_datetime IS NULL THEN 'missing enter_datetime' END",
        "CASE WHEN exit_datetime IS NULL THEN 'missing exit_datetime' END",
        *(bad(f) for f in QC_TS + EV_TS),
        *(out_of_range_sql(f, f"p_{f}", f) for f in QC_TS + EV_TS),
        "CASE WHEN p_exit_datetime < p_enter_datetime THEN 'exit_datetime before enter_datetime' END",
        f"CASE WHEN {has_ev} AND p_event_ring_datetime IS NULL AND event_ring_datetime IS NULL"
        " THEN 'operator event without event_ring_datetime' END",
        "CASE WHEN p_event_end_datetime < p_event_ring_datetime"
        " THEN 'event_end_datetime before event_ring_datetime' END",
        "CASE WHEN p_exit_datetime - p_enter_datetime > INTERVAL 7 DAY"
        " THEN 'absurd queue call (over 7 days)' END",
    ]
    raw_json = "to_json(struct_pack(" + ", ".join(f"{f} := {f}" for f in ALL_FIELDS) + "))::TEXT"
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE cc_norm AS
    WITH p AS (
      SELECT r.*, {', '.join(f'{inst(f)} AS p_{f}' for f in QC_TS + EV_TS)},
        coalesce(pbx_local(exit_datetime), timezone($tz, {inst('exit_datetime')})) AS exit_local
      FROM cc_raw r
    ), c AS (
      SELECT *, nullif(concat_ws('; ', {', '.join(checks)}), '') AS reason FROM p
    )
    SELECT c._row, c._rec, c._line, c.reason,
      CASE WHEN c.reason IS NOT NULL THEN {raw_json} END AS raw,
      coalesce(c.tenant, $tenant) AS tenant, c.unique_id,
      coalesce(c.queue_id, c.queue_name, '') AS qkey, c.queue_id, c.queue_name,
      coalesce(vd.code, lower(c.direction), 'incoming') AS direction,
      coalesce(vs.code, upper(c.status)) AS status, c.caller, c.caller_name, c.called,
      c.p_enter_datetime AS enter_ts, c.p_welcome_end_datetime AS welcome_end_ts,
      c.p_enqueue_datetime AS enqueue_ts, c.p_answer_datetime AS answer_ts,
      c.p_exit_datetime AS exit_ts, c.exit_local,
      coalesce(vq.code, upper(c.exit_cause)) AS exit_cause, c.exit_cause AS exit_cause_raw,
      c.operator_exten, c.operator_name, c.operator_account, c.account_code, c.work_code,
      c._extra AS extra, {has_ev} AS has_event,
      c.event_operator_exten AS ev_exten, c.event_operator_name AS ev_name,
      c.event_operator_account AS ev_account, c.p_event_ring_datetime AS ring_ts,
      c.p_event_answer_datetime AS ev_answer_ts, c.p_event_end_datetime AS ev_end_ts,
      coalesce(ve.code, upper(c.event_outcome)) AS ev_outcome, c.event_outcome AS ev_outcome_raw
    FROM c
    LEFT JOIN cc_vmap vd ON vd.col = 'direction' AND vd.raw = lower(trim(c.direction))
    LEFT JOIN cc_vmap vs ON vs.col = 'status' AND vs.raw = c.status
    LEFT JOIN cc_vmap vq ON vq.col = 'exit_cause' AND vq.raw = c.exit_cause
    LEFT JOIN cc_vmap ve ON ve.col = 'event_outcome' AND ve.raw = c.event_outcome
    """, {"tz": tz, "tenant": default_tenant})  # noqa: S608 -- names and SQL fragments from code; values bound


def _group(con: duckdb.DuckDBPyConnection) -> None:
    """cc_ev (distinct operator events) and cc_qc (one row per queue call, with the content
    hash of its fields and events) from the good rows of cc_norm."""
    qc_cols = ("tenant", "unique_id", "qkey", "queue_id", "queue_name", "direction", "status",
               "caller", "caller_name", "called", "enter_ts", "welcome_end_ts", "enqueue_ts",
               "answer_ts", "exit_ts", "exit_cause", "operator_exten", "operator_name",
               "operator_account", "account_code", "work_code")
    ev_cols = ("ev_exten", "ev_name", "ev_account", "ring_ts", "ev_answer_ts", "ev_end_ts",
               "ev_outcome")
    # queue calls: the first good row of each natural key gives its fields; the content hash
    # covers the fields and the (order-free) set of distinct events
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE cc_ev AS
    SELECT DISTINCT ON (tenant, unique_id, qkey, enter_ts, {', '.join(ev_cols)})
      tenant, unique_id, qkey, enter_ts, _row, {', '.join(ev_cols)}, ev_outcome_raw,
      hash({', '.join(ev_cols)}) AS ev_hash
    FROM cc_norm WHERE reason IS NULL AND has_event
    ORDER BY tenant, unique_id, qkey, enter_ts, {', '.join(ev_cols)}, _row
    """)  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE cc_qc AS
    WITH f AS (
      SELECT DISTINCT ON (tenant, unique_id, qkey, enter_ts) *, hash({', '.join(qc_cols)}) AS h
      FROM cc_norm WHERE reason IS NULL ORDER BY tenant, unique_id, qkey, enter_ts, _row
    ), e AS (
      SELECT tenant, unique_id, qkey, enter_ts, count(*)::INTEGER AS n_events,
        hash(sum(ev_hash)::HUGEINT) AS events_hash
      FROM cc_ev GROUP BY ALL
    ), n AS (
      SELECT tenant, unique_id, qkey, enter_ts, count(DISTINCT _rec) AS n_rec
      FROM cc_norm WHERE reason IS NULL GROUP BY ALL
    )
    SELECT f.* EXCLUDE (h), f.h AS call_hash, coalesce(e.n_events, 0) AS n_events,
      e.events_hash, n.n_rec
    FROM f LEFT JOIN e USING (tenant, unique_id, qkey, enter_ts)
    JOIN n USING (tenant, unique_id, qkey, enter_ts)
    """)  # noqa: S608 -- names and SQL fragments from code; values bound


# Per-visit seconds (C7, §0.9): welcome = (welcome end, else enqueue, else exit) - enter;
# accodamento = enqueue - welcome end; attesa in coda = (answer, else exit) - (enqueue, else
# welcome end); so welcome + accodamento + attesa in coda = tempo di attesa = (answer, else
# exit) - enter. Answered visits: talk = exit - answer, operator response = answer - (enqueue,
# else enter), durata = exit - enter; unanswered visits: attesa = exit - enter.
_QC_INSERT = f"""
INSERT INTO queue_calls
WITH k AS (
  SELECT s.*, {Q_BLOCK.replace('x', 's.exit_cause')} AS block FROM cc_qc s
  JOIN cc_class c USING (tenant, unique_id, qkey, enter_ts) WHERE c.cls <> 'dup'
), a AS (
  SELECT *, block IN ({ANSWERED}) AS ans,
    coalesce(answer_ts, exit_ts) AS stop_ts FROM k
)
SELECT tenant, unique_id, qkey, enter_ts, queue_id, queue_name, direction, status, caller,
  caller_name, called, welcome_end_ts, enqueue_ts, answer_ts, exit_ts, exit_cause,
  exit_cause_raw, block, ans AS answered, operator_exten, operator_name, operator_account,
  account_code, work_code,
  CAST(exit_local AS DATE) AS day, CAST(hour(exit_local) AS SMALLINT) AS hr,
  CAST(dayofweek(exit_local) AS SMALLINT) AS dow,
  {_sec('enter_ts', 'least(coalesce(welcome_end_ts, enqueue_ts, exit_ts), stop_ts)')}
    AS welcome_s,
  CASE WHEN welcome_end_ts IS NOT NULL AND enqueue_ts IS NOT NULL
       THEN {_sec('welcome_end_ts', 'enqueue_ts')} ELSE 0 END AS queuing_s,
  CASE WHEN coalesce(enqueue_ts, welcome_end_ts) IS NOT NULL
       THEN {_sec('coalesce(enqueue_ts, welcome_end_ts)', 'stop_ts')} ELSE 0 END
    AS queue_wait_s,
  {_sec('enter_ts', 'stop_ts')} AS hold_s,
  CASE WHEN ans THEN {_sec('coalesce(enqueue_ts, enter_ts)', 'answer_ts')} ELSE 0 END
    AS resp_s,
  CASE WHEN ans THEN {_sec('answer_ts', 'exit_ts')} ELSE 0 END AS talk_s,
  {_sec('enter_ts', 'exit_ts')} AS tot_s,
  CASE WHEN ans THEN {_sec('enter_ts', 'exit_ts')} ELSE 0 END AS dur_s,
  CASE WHEN ans THEN 0 ELSE {_sec('enter_ts', 'exit_ts')} END AS wait_s,
  n_events, call_hash, events_hash, $batch AS batch_id, extra
FROM a
ORDER BY day, unique_id, qkey, enter_ts
"""  # noqa: S608 -- names and SQL fragments from code; values bound

# One leg per distinct operator event (duplicates from K-17113 collapse). Worked time (C17):
# talk for answered legs, 0 for ANSWERED ELSEWHERE / REFUSED / TIMEOUT, else ring -> end;
# ring = (answer, else end) - ring start; response = answer - queue entry (C19).
_LEG_INSERT = f"""
INSERT INTO cc_agent_legs
WITH e AS (
  SELECT v.*, {E_BLOCK.replace('x', 'v.ev_outcome')} AS block,
    row_number() OVER (PARTITION BY v.tenant, v.unique_id, v.qkey, v.enter_ts
                       ORDER BY v._row)::INTEGER AS seq
  FROM cc_ev v
  JOIN cc_class c USING (tenant, unique_id, qkey, enter_ts) WHERE c.cls <> 'dup'
), a AS (
  SELECT e.*, e.block IN ({ANSWERED}) AS ans, q.day, q.hr, q.dow, q.direction, q.status,
    q.caller, q.called, q.queue_id, q.queue_name
  FROM e JOIN queue_calls q USING (tenant, unique_id, qkey, enter_ts)
)
SELECT tenant, unique_id, qkey, enter_ts AS q_enter_ts, seq, day, hr, dow, direction, status,
  caller, called, queue_id, queue_name, ev_exten AS extension, ev_name AS op_name,
  ev_account AS account, ring_ts, ev_answer_ts AS answer_ts, ev_end_ts AS end_ts,
  ev_outcome AS exit_cause, ev_outcome_raw AS exit_cause_raw, block, ans AS answered,
  {_sec('ring_ts', 'coalesce(ev_answer_ts, ev_end_ts)')} AS ring_s,
  CASE WHEN ans THEN {_sec('enter_ts', 'ev_answer_ts')} ELSE 0 END AS resp_s,
  CASE WHEN ans THEN {_sec('ev_answer_ts', 'ev_end_ts')} ELSE 0 END AS talk_s,
  CASE WHEN ans THEN {_sec('ev_answer_ts', 'ev_end_ts')}
       WHEN block IN ('ANSWERED ELSEWHERE', 'REFUSED', 'TIMEOUT') THEN 0
       ELSE {_sec('ring_ts', 'ev_end_ts')} END AS worked_s,
  $batch AS batch_id
FROM a
ORDER BY day, unique_id, qkey, q_enter_ts, seq
"""  # noqa: S608 -- names and SQL fragments from code; values bound


def load(con: duckdb.DuckDBPyConnection, batch_id: int, *, has_events: bool) -> dict[str, int]:
    """Upsert cc_qc / cc_ev into queue_calls / cc_agent_legs (inside the batch transaction)."""
    ev = "true" if has_events else "false"
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE cc_class AS
    SELECT s.tenant, s.unique_id, s.qkey, s.enter_ts, s.n_rec,
      CASE WHEN q.unique_id IS NULL THEN 'new'
           WHEN q.content_hash = s.call_hash AND (NOT {ev}
                OR q.events_hash IS NOT DISTINCT FROM s.events_hash) THEN 'dup'
           ELSE 'changed' END AS cls
    FROM cc_qc s LEFT JOIN queue_calls q ON q.tenant = s.tenant AND q.unique_id = s.unique_id
      AND q.qkey = s.qkey AND q.enter_ts = s.enter_ts
    """)  # noqa: S608 -- names and SQL fragments from code; values bound
    keep = None
    if not has_events:  # a summary export keeps the stored events of a call it replaces
        con.execute("""CREATE OR REPLACE TEMP TABLE cc_keep AS SELECT l.* FROM cc_agent_legs l
            JOIN cc_class k ON k.cls = 'changed' AND l.tenant = k.tenant
              AND l.unique_id = k.unique_id AND l.qkey = k.qkey AND l.q_enter_ts = k.enter_ts""")
        keep = con.execute("SELECT count(*) FROM cc_keep").fetchone()[0]
    for table, enter in (("queue_calls", "enter_ts"), ("cc_agent_legs", "q_enter_ts")):
        con.execute(f"""DELETE FROM {table} t USING cc_class k
            WHERE k.cls = 'changed' AND t.tenant = k.tenant AND t.unique_id = k.unique_id
              AND t.qkey = k.qkey AND t.{enter} = k.enter_ts""")  # noqa: S608 -- names and SQL fragments from code; values bound
    con.execute(_QC_INSERT, {"batch": batch_id})
    if has_events:
        con.execute(_LEG_INSERT, {"batch": batch_id})
    elif keep:
        # the kept events take the new queue call's buckets and call fields
        con.execute("""INSERT INTO cc_agent_legs SELECT l.* REPLACE (q.day AS day, q.hr AS hr,
            q.dow AS dow, q.direction AS direction, q.status AS status, q.caller AS caller,
            q.called AS called, q.queue_id AS queue_id, q.queue_name AS queue_name)
            FROM cc_keep l JOIN queue_calls q ON q.tenant = l.tenant
              AND q.unique_id = l.unique_id AND q.qkey = l.qkey AND q.enter_ts = l.q_enter_ts""")
        con.execute("""UPDATE queue_calls q SET n_events = k.n, events_hash = k.h
            FROM (SELECT tenant, unique_id, qkey, q_enter_ts, count(*)::INTEGER AS n,
                    any_value(NULL::UBIGINT) AS h FROM cc_keep GROUP BY ALL) k
            WHERE q.tenant = k.tenant AND q.unique_id = k.unique_id AND q.qkey = k.qkey
              AND q.enter_ts = k.q_enter_ts""")
    loaded, dup, calls = con.execute("""
      SELECT coalesce(sum(n_rec) FILTER (WHERE cls <> 'dup'), 0),
        coalesce(sum(n_rec) FILTER (WHERE cls = 'dup'), 0), count(*) FILTER (WHERE cls <> 'dup')
      FROM cc_class""").fetchone()
    return {"rows_loaded": int(loaded), "rows_duplicate": int(dup), "calls_loaded": int(calls)}


def quarantine(con: duckdb.DuckDBPyConnection, batch_id: int, source: str) -> int:
    con.execute("""
    INSERT INTO quarantine (batch_id, source, line, record, raw, reason)
    SELECT ?, ?, _line, _rec, raw, reason FROM (
      SELECT _line, _rec, raw, reason FROM cc_norm
      WHERE reason IS NOT NULL
      UNION ALL SELECT _line, _rec, raw, reason FROM cc_rejects) ORDER BY _rec, _line
    """, [batch_id, source])
    return con.execute("SELECT (SELECT count(*) FROM cc_norm WHERE reason IS NOT NULL)"
                       " + (SELECT count(*) FROM cc_rejects)").fetchone()[0]


def drop_scratch(con: duckdb.DuckDBPyConnection) -> None:
    drop_temp(con, (*SCRATCH, "cc_keep"))
