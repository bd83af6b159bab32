"""Asterisk / FreePBX sources: `Master.csv` (cdr_csv) and `queue_log`, laid out as `raw_rows`
in the Kalliope field layout (like kalliope_cdr.Collector), so that normalize, the loader and
derive treat them as any CDR and the queue and operator reports work on plain Asterisk data.

Master.csv (anchors.md §3.1): no header; `accountcode, src, dst, dcontext, clid, channel,
dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags`
[+ `uniqueid`] [+ `userfield`] [+ `peeraccount, linkedid, sequence` with newcdrcolumns]. One
call per uniqueid (else per row, keyed by start epoch + a hash of the row); each row is a
`local_exten`/`obl`/`queue` detail line. Unknown columns go to `calls.extra`.

queue_log (anchors.md §3.2): `epoch|callid|queue|agent|event|data...`. The events of a callid
make one call (`ibl` -> `queue`); each queue visit is a `queue` detail line (enter = ENTERQUEUE,
or the first event of the visit when ENTERQUEUE is missing, back-dated by its wait time;
answer = CONNECT; exit = the closing event) and each agent ring a `local_exten` line
(RINGNOANSWER, RINGCANCELED, CONNECT). A transfer to another queue keeps the original callid, so
the second visit is a second `queue` line of the same call. Exit causes use the Kalliope
vocabulary (QUEUE_EXIT below). Agent/member events (login, pause, ...) carry no call: skipped.

Merge rule (one ingest): when queue_log and Master.csv are given to the same `ingest` run,
queue_log calls are matched to Master.csv calls by callid = uniqueid (or linkedid). A matched
call takes its call fields (status, times, caller, called, billsec, account code) from
Master.csv and its path from queue_log; its Master.csv rows are not added as path lines. The
queue_log file then loads only the callids that no Master.csv of the run describes. Across
runs the loader keeps the same rule (loader.load_cdr `fmt`): a later queue_log replaces only
the path of a call a Master.csv stored, a later Master.csv only the fields of a call whose path
came from a queue_log, so either order gives the store one run gives.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pbxlens.ingest.kalliope_cdr import Collector, RawBatch, reset_scratch
from pbxlens.ingest.sniff import FileKind, UnreadableFileError, first_line

MASTER_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
                  "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
                  "disposition", "amaflags")
DISPOSITIONS = {"ANSWERED": "OK", "NO ANSWER": "NOANSWER", "BUSY": "BUSY", "FAILED": "FAILED",
                "CONGESTION": "FAILED"}
_QLOG = re.compile(r"^\d{9,11}(?:\.\d+)?\|[^|\n]*\|[^|\n]*\|[^|\n]*\|[A-Z_]+")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
QUEUE_EXIT = {"ABANDON": "CANCELED", "EXITWITHTIMEOUT": "TIMEOUT", "EXITEMPTY": "LEAVEEMPTY",
              "EXITWITHKEY": "EXITWITHKEY", "FULL": "FULL", "JOINEMPTY": "JOINEMPTY",
              "JOINUNAVAIL": "JOINEMPTY", "LEAVEEMPTY": "LEAVEEMPTY", "CLOSED": "CLOSED"}
ANSWERED_END = {"COMPLETEAGENT": "ANSWER", "COMPLETECALLER": "ANSWER", "TRANSFER": "BLINDXFER",
                "BLINDTRANSFER": "BLINDXFER", "ATTENDEDTRANSFER": "ATXFER"}
NO_CALL = {"NONE", "REALTIME", "MANAGER", "CLI", ""}


# ------------------------------------------------------------------------------ detect
def detect(path: Path, kind: FileKind) -> str | None:
    """'asterisk_master' / 'asterisk_queue_log' for a text file in one of those layouts."""
    if kind.kind != "csv":
        return None
    enc = "utf-8-sig" if kind.encoding == "utf-8" else kind.encoding
    with path.open("r", encoding=enc, errors="replace", newline="") as fh:
        head = [ln for ln in (first_line(fh, path, n) for n in range(1, 6)) if ln.strip()]
    if not head:
        return None
    if all(_QLOG.match(ln) for ln in head[:3]):
        return "asterisk_queue_log"
    row = next(csv.reader(io.StringIO(head[0])), [])
    if 16 <= len(row) <= 21 and _STAMP.match(row[9].strip()) and row[14].strip() in DISPOSITIONS:
        return "asterisk_master"
    return None


# ----------------------------------------------------------------------- master parsing
def _peer(channel: str) -> str:
    """`SIP/201-00000001` -> `201`; `PJSIP/trunk-0000a` -> `trunk`; `Local/201@ctx-..` -> 201."""
    m = re.match(r"^[A-Za-z0-9_]+/([^@;/-]+(?:-[A-Za-z][^-@;/]*)*)", channel or "")
    return m.group(1) if m else ""


def split_clid(clid: str) -> tuple[str, str]:
    """`"Mario Rossi" <201>` -> ("Mario Rossi", "201"); quotes inside the name are kept."""
    clid = (clid or "").strip()
    m = re.match(r'^\s*"?(.*?)"?\s*<([^<>]*)>\s*$', clid)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    return ("", clid) if re.fullmatch(r"[+\d*#]+", clid) else (clid, "")


def _is_exten(num: str) -> bool:
    return bool(re.fullmatch(r"\d{2,6}", num or ""))


@dataclass
class MasterCall:
    key: str
    rows: list[dict] = field(default_factory=list)
    line: int = 0


def parse_master(path: Path, kind: FileKind, col: Collector | None = None) -> dict[str, MasterCall]:
    """uniqueid (or linkedid, or a synthetic key) -> its Master.csv rows, in file order."""
    enc = "utf-8-sig" if kind.encoding == "utf-8" else kind.encoding
    calls: dict[str, MasterCall] = {}
    with path.open("r", encoding=enc, errors="replace", newline="") as fh:
        for n, row in enumerate(csv.reader(fh), start=1):
            if not row or not any(c.strip() for c in row):
                continue
            if not 16 <= len(row) <= 21:
                if col is not None:
                    col.reject(n, n, ",".join(row)[:2000], f"{len(row)} columns; Master.csv has 16-21")
                continue
            rec = dict(zip(MASTER_COLUMNS, (c.strip() for c in row[:16]), strict=True))
            rest = [c.strip() for c in row[16:]]
            # 17: uniqueid; 18: uniqueid, userfield; 19: newcdrcolumns only; 20/21: ids + new
            if len(rest) in (1, 2, 4, 5):
                rec["uniqueid"] = rest[0]
            if len(rest) in (2, 5):
                rec["userfield"] = rest[1]
            if len(rest) >= 3:
                rec["peeraccount"], rec["linkedid"], rec["sequence"] = rest[-3:]
            key = rec.get("uniqueid") or rec.get("linkedid")
            if not key:
                digest = hashlib.sha1(",".join(row).encode(), usedforsecurity=False).hexdigest()[:8]
                try:
                    epoch = int(datetime.strptime(rec["start"], "%Y-%m-%d %H:%M:%S").timestamp())
                except ValueError:
                    epoch = 0
                key = f"{epoch}.{int(digest, 16) % 100000}"
            mc = calls.setdefault(key, MasterCall(key, line=n))
            mc.rows.append(rec)
    return calls


def master_call(mc: MasterCall) -> tuple[dict, list[dict]]:
    first, last = mc.rows[0], mc.rows[-1]
    answered = next((r for r in mc.rows if r["disposition"] == "ANSWERED"), None)
    top = answered or last
    name, num = split_clid(first["clid"])
    src = first["src"] or num
    src_type = "local_exten" if _is_exten(src) else "ibl"
    dst = first["dst"]
    if first["lastapp"].lower() == "queue" or any(r["lastapp"].lower() == "queue" for r in mc.rows):
        dst_type = "queue"
    elif _is_exten(dst):
        dst_type = "local_exten"
    else:
        dst_type = "obl" if src_type == "local_exten" else ""
    ends = [r["end"] for r in mc.rows if r["end"]]
    call = {
        "unique_id": mc.key, "source_type": src_type, "destination_type": dst_type,
        "status": top["disposition"], "start_datetime": first["start"],
        "answer_datetime": answered["answer"] if answered else "",
        "answered_by": _peer(answered["dstchannel"]) if answered else "",
        "end_datetime": max(ends) if ends else "", "caller": src, "caller_name": name,
        "called": dst, "account_code": first["accountcode"],
        "duration": str(sum(int(r["duration"] or 0) for r in mc.rows)),
        "bill_secs": str(sum(int(r["billsec"] or 0) for r in mc.rows)),
        "src_peer_name": _peer(first["channel"]) if src_type == "local_exten" else "",
        "gateway_name": (_peer(first["channel"]) if src_type == "ibl"
                         else _peer(top["dstchannel"]) if dst_type == "obl" else ""),
    }
    for k in ("dcontext", "channel", "dstchannel", "lastapp", "lastdata", "amaflags", "userfield",
              "peeraccount", "linkedid", "sequence"):
        if first.get(k):
            call[k] = first[k]  # unknown to the Kalliope layout: kept in calls.extra
    details = []
    for r in mc.rows:
        peer = _peer(r["dstchannel"])
        exten = peer if _is_exten(peer) else r["dst"]
        typ = "queue" if r["lastapp"].lower() == "queue" else (
            "local_exten" if _is_exten(exten) else "obl")
        details.append({
            "source_num": src, "destination_type": typ,
            "destination_id": (r["lastdata"].split(",")[0] if typ == "queue" else exten),
            "destination_num": r["dst"], "enter_datetime": r["start"],
            "answer_datetime": r["answer"], "exit_datetime": r["end"],
            "exit_cause": {"ANSWERED": "ANSWER"}.get(r["disposition"], r["disposition"]),
            "answered_by": peer if r["disposition"] == "ANSWERED" else "",
            "account_code": r["accountcode"]})
    return call, details


# --------------------------------------------------------------------- queue_log parsing
@dataclass
class QEvent:
    t: float
    callid: str
    queue: str
    agent: str
    event: str
    data: list[str]
    line: int


def parse_queue_log(path: Path, kind: FileKind, col: Collector | None = None) -> dict[str, list[QEvent]]:
    enc = "utf-8-sig" if kind.encoding == "utf-8" else kind.encoding
    by_call: dict[str, list[QEvent]] = defaultdict(list)
    with path.open("r", encoding=enc, errors="replace", newline="") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("|")
            try:
                t = float(parts[0])
                if len(parts) < 5 or not parts[4]:
                    raise ValueError
            except ValueError:
                if col is not None:
                    col.reject(n, n, line[:2000], "not a queue_log line (epoch|callid|queue|agent|event|...)")
                continue
            if parts[1] in NO_CALL:
                continue  # member / queue events (login, pause, reload): no call
            by_call[parts[1]].append(QEvent(t, parts[1], parts[2], parts[3], parts[4], parts[5:], n))
    for evs in by_call.values():
        evs.sort(key=lambda e: (e.t, e.line))
    return by_call


def _num(s: str | None) -> float:
    try:
        return float(s or 0)
    except ValueError:
        return 0.0


def _ext(agent: str) -> str:
    m = re.search(r"(\d{2,6})", agent or "")
    return m.group(1) if m else agent


def queue_call(callid: str, evs: list[QEvent], fmt) -> tuple[dict, list[dict]] | None:
    """The call fields and path (queue + local_exten lines) of one callid, or None when the
    callid has no call event (only member events)."""
    lines: list[dict] = []
    visit: dict | None = None
    caller = called = ""
    connected: dict | None = None  # the agent line that answered
    ring_open: dict[str, dict] = {}

    def open_visit(e: QEvent, enter: float) -> dict:
        nonlocal visit
        visit = {"destination_type": "queue", "destination_id": e.queue,
                 "destination_name": e.queue, "_enter": enter, "_answer": None, "_exit": None,
                 "exit_cause": "", "answered_by": "", "waiting_time": ""}
        lines.append(visit)
        return visit

    def close_visit(e: QEvent, cause: str) -> None:
        nonlocal visit
        if visit is not None and visit["_exit"] is None:
            visit["_exit"] = e.t
            visit["exit_cause"] = cause
        visit = None

    for e in evs:
        d = e.data + [""] * 6
        if e.event == "DID":
            called = d[0]
            continue
        if e.event == "ENTERQUEUE":
            caller = caller or d[1]
            if visit is not None and visit["destination_id"] != e.queue:
                close_visit(e, "ATXFER")
            open_visit(e, e.t)
            continue
        if e.event not in QUEUE_EXIT and e.event not in ANSWERED_END and e.event not in (
                "CONNECT", "RINGNOANSWER", "RINGCANCELED"):
            continue
        if visit is None or visit["destination_id"] != e.queue:
            if visit is not None:
                close_visit(e, "ATXFER")
            open_visit(e, e.t - _backdate(e.event, d))  # ENTERQUEUE missing
        v = visit
        if e.event == "RINGNOANSWER":
            lines.append(_agent_line(e, e.t - _num(d[0]) / 1000.0, None, e.t, "NOANSWER"))
        elif e.event == "RINGCANCELED":
            ring_open[e.agent] = _agent_line(e, e.t, None, e.t, "CANCELED")
            lines.append(ring_open[e.agent])
        elif e.event == "CONNECT":
            ring = _num(d[2])
            connected = _agent_line(e, e.t - ring, e.t, None, "ANSWER")
            lines.append(connected)
            v["_answer"] = e.t
            v["answered_by"] = _ext(e.agent)
            v["waiting_time"] = str(int(_num(d[0])))
        elif e.event in ANSWERED_END:
            if v["_answer"] is None:  # CONNECT missing: answered at exit - talk time
                talk = _num(d[1]) if e.event != "ATTENDEDTRANSFER" else _num(d[3])
                v["_answer"] = e.t - talk
                v["answered_by"] = _ext(e.agent)
                connected = _agent_line(e, v["_answer"], v["_answer"], None, "ANSWER")
                lines.append(connected)
            if connected is not None and connected["_exit"] is None:
                connected["_exit"] = e.t
                connected["exit_cause"] = ANSWERED_END[e.event]
            close_visit(e, "ANSWER")
            connected = None
        elif e.event in QUEUE_EXIT:
            close_visit(e, QUEUE_EXIT[e.event])
    if not lines:
        return None
    _close_lines(lines, ring_open.values(), evs[-1].t)
    return _call_record(callid, lines, caller, called, fmt)


def _backdate(event: str, d: list[str]) -> float:
    """Seconds before `event` that a queue visit began, by the wait (and talk) the event
    reports: for a visit whose ENTERQUEUE is missing."""
    if event in ANSWERED_END:
        return _num(d[0]) + _num(d[1]) if event != "ATTENDEDTRANSFER" else _num(d[2]) + _num(d[3])
    return {"CONNECT": _num(d[0]), "ABANDON": _num(d[2]), "EXITWITHTIMEOUT": _num(d[2]),
            "EXITEMPTY": _num(d[2]), "EXITWITHKEY": _num(d[3])}.get(event, 0.0)


def _close_lines(lines: list[dict], rang: Iterable[dict], last_t: float) -> None:
    """Lines still open end at the callid's last event; an agent whose ring was cancelled
    while another agent answered was answered elsewhere."""
    for ln in lines:
        if ln["_exit"] is None:
            ln["_exit"] = last_t
    for agent_ln in rang:
        if any(x.get("_answer") and x is not agent_ln and x["destination_type"] == "local_exten"
               and abs(x["_answer"] - agent_ln["_exit"]) < 1.0 for x in lines):
            agent_ln["exit_cause"] = "ANSWERED_ELSEWHERE"


def _call_record(callid: str, lines: list[dict], caller: str, called: str,
                 fmt) -> tuple[dict, list[dict]]:
    """The call fields and its detail lines in the Kalliope layout, from the closed lines."""
    start = min(ln["_enter"] for ln in lines)
    end = max(ln["_exit"] for ln in lines)
    answers = [ln["_answer"] for ln in lines if ln["destination_type"] == "queue" and ln["_answer"]]
    answered_q = next((ln for ln in lines if ln["destination_type"] == "queue" and ln["_answer"]), None)
    causes = [ln["exit_cause"] for ln in lines if ln["destination_type"] == "queue"]
    status = "OK" if answers else ("CANCELED" if "CANCELED" in causes else "NOANSWER")
    talk = end - answers[0] if answers else 0.0
    call = {"unique_id": callid, "source_type": "ibl", "destination_type": "queue",
            "status": status, "start_datetime": fmt(start),
            "answer_datetime": fmt(answers[0]) if answers else "",
            "answered_by": answered_q["answered_by"] if answered_q else "",
            "end_datetime": fmt(end), "caller": caller, "called": called,
            "duration": str(round(end - start)), "bill_secs": f"{talk:.3f}"}
    details = []
    for ln in lines:
        out = {k: v for k, v in ln.items() if not k.startswith("_")}
        out["source_num"] = caller
        out["enter_datetime"] = fmt(ln["_enter"])
        out["enqueue_datetime"] = fmt(ln["_enter"]) if ln["destination_type"] == "queue" else ""
        out["answer_datetime"] = fmt(ln["_answer"]) if ln.get("_answer") else ""
        out["exit_datetime"] = fmt(ln["_exit"])
        details.append(out)
    return call, details


def _agent_line(e: QEvent, enter: float, answer: float | None, exit_: float | None, cause: str) -> dict:
    ext = _ext(e.agent)
    return {"destination_type": "local_exten", "destination_id": ext, "destination_name": e.agent,
            "destination_num": ext, "_enter": enter, "_answer": answer, "_exit": exit_,
            "exit_cause": cause, "answered_by": ext if answer is not None else ""}


# ------------------------------------------------------------------ pairing + readers
@dataclass
class _Pair:
    queue_calls: dict[str, list[QEvent]]
    master_keys: set[str]


_PAIR: ContextVar[_Pair | None] = ContextVar("asterisk_pair", default=None)


@contextlib.contextmanager
def pairing(files: list[Path]) -> Iterator[None]:
    """Within one ingest run: parse the queue_logs once and note which callids a Master.csv
    describes (the merge rule in the module docstring)."""
    from pbxlens.ingest import sniff

    qlogs, masters = [], []
    for p in files:
        with contextlib.suppress(Exception):
            k = sniff.detect(p)
            if k.kind == "asterisk_queue_log":
                qlogs.append((p, k))
            elif k.kind == "asterisk_master":
                masters.append((p, k))
    if not (qlogs and masters):
        yield
        return
    qcalls: dict[str, list[QEvent]] = {}
    for p, k in qlogs:
        for cid, evs in parse_queue_log(p, k).items():
            qcalls.setdefault(cid, []).extend(evs)
    keys: set[str] = set()
    for p, k in masters:
        for key, mc in parse_master(p, k).items():
            keys.add(key)
            keys.update(r.get("uniqueid") or "" for r in mc.rows)
            keys.update(r.get("linkedid") or "" for r in mc.rows)
    token = _PAIR.set(_Pair(qcalls, keys - {""}))
    try:
        yield
    finally:
        _PAIR.reset(token)


def _formatter():
    from pbxlens.config import get_settings

    tz = ZoneInfo(get_settings().timezone)
    return lambda t: datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")


def read_master(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind) -> RawBatch:
    reset_scratch(con)
    col = Collector()
    pair = _PAIR.get()
    fmt = _formatter()
    for n, mc in enumerate(parse_master(path, kind, col).values(), start=1):
        call, details = master_call(mc)
        if pair is not None:
            ids = [mc.key, *(r.get("uniqueid") for r in mc.rows), *(r.get("linkedid") for r in mc.rows)]
            cid = next((i for i in ids if i and i in pair.queue_calls), None)
            q = queue_call(cid, pair.queue_calls[cid], fmt) if cid else None
            if q is not None:
                details = q[1]
                call["queue_log_callid"] = cid
        col.add_call(n, mc.line, call, details)
    if not col.records:
        raise UnreadableFileError(f"{path}: no Master.csv records")
    if not col.columns["_rec"]:
        raise UnreadableFileError(f"{path}: no readable Master.csv row ({col.rejects[0][3]})")
    col.load(con)
    return RawBatch("asterisk_master_csv", col.records, True)


def read_queue_log(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind) -> RawBatch:
    reset_scratch(con)
    col = Collector()
    pair = _PAIR.get()
    fmt = _formatter()
    calls = parse_queue_log(path, kind, col)
    for n, (cid, evs) in enumerate(calls.items(), start=1):
        if pair is not None and cid in pair.master_keys:
            continue  # merged into the Master.csv call
        q = queue_call(cid, evs, fmt)
        if q is not None:
            col.add_call(n, evs[0].line, q[0], q[1])
    if not col.records and not (pair is not None and calls):
        raise UnreadableFileError(f"{path}: no queue calls in the queue_log")
    col.load(con)
    return RawBatch("asterisk_queue_log", col.records, True,
                    years=None if col.columns["_rec"] else (1970, 1970))


READERS = {"asterisk_master": read_master, "asterisk_queue_log": read_queue_log}
