"""What a file is: its kind (csv/json/xml/xlsx), its text encoding, its CSV delimiter.

Pure inspection of bytes; nothing here touches the store.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from pbxlens import PbxlensError

CHUNK = 8 * 1024 * 1024
# Longest accepted text line (DuckDB's CSV reader is given the same limit).
MAX_LINE_BYTES = 1024 * 1024
SUFFIXES = {".csv", ".txt", ".json", ".jsonl", ".xml", ".xlsx"}


class UnreadableFileError(PbxlensError):
    """A file that cannot be parsed at all (empty, binary, truncated beyond salvage)."""


@dataclass(frozen=True)
class FileKind:
    kind: str            # csv | json | xml | xlsx | asterisk_master | asterisk_queue_log
    #                      | callcenter_csv | callcenter_json | callcenter_xml | callcenter_xlsx
    encoding: str        # utf-8 | utf-8-sig | utf-16 | cp1252 (text kinds)
    delimiter: str = ","


# Within one ingest run (`one_run`): each file's kind, and the SHA-256 of its bytes taken by
# the same read that checked them (the batch's provenance, `loader.sha256_of`). A 1.7 GB export
# was read five times before DuckDB read it (two detections of two full scans each, one hash).
_RUN: ContextVar[dict | None] = ContextVar("sniff_run", default=None)


@contextlib.contextmanager
def one_run() -> Iterator[None]:
    """Inspect each file once while this block runs (the files of one ingest run do not
    change meanwhile, as the run already assumes between detection and reading)."""
    token = _RUN.set({})
    try:
        yield
    finally:
        _RUN.reset(token)


def run_sha256(path: Path) -> str | None:
    """The SHA-256 of `path` if this run's detection read the whole file, else None."""
    run = _RUN.get()
    return None if run is None else run.get(("sha256", Path(path)))


def detect(path: Path) -> FileKind:
    run = _RUN.get()
    if run is None:
        return _detect_kind(path)
    key = ("kind", Path(path))
    if key not in run:  # a refusal is not kept: it is raised again, as before
        run[key] = _detect_kind(path)
    return run[key]


def _detect_kind(path: Path) -> FileKind:
    kind = _detect(path)
    from pbxlens.ingest import kalliope_callcenter  # a Call Center CDR, not a plain CDR?

    if kind.kind in ("csv", "json", "xml", "xlsx") and kalliope_callcenter.detect(path, kind):
        return FileKind(f"callcenter_{kind.kind}", kind.encoding, kind.delimiter)
    return kind


def _detect(path: Path) -> FileKind:
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFileError(f"{path}: the file is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(65536)
    if head.startswith(b"PK\x03\x04"):
        return FileKind("xlsx", "binary")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        text = head.decode("utf-16", errors="replace")
    else:
        if b"\x00" in head[:8192]:
            raise UnreadableFileError(f"{path}: not a text file (binary content)")
        encoding = scan_text(path)
        text = head.decode("cp1252" if encoding == "cp1252" else "utf-8", errors="replace")
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise UnreadableFileError(f"{path}: the file holds only white space")
    if body[0] in "[{":
        return FileKind("json", encoding)
    if body[0] == "<":
        return FileKind("xml", encoding)
    kind = FileKind("csv", encoding, csv_delimiter(body))
    from pbxlens.ingest import asterisk  # Master.csv and queue_log are header-less text

    flavour = asterisk.detect(path, kind)
    return FileKind(flavour, encoding, kind.delimiter) if flavour else kind


def scan_text(path: Path) -> str:
    """One read of an 8-bit text file: refused as a whole at a NUL byte anywhere (damaged or
    binary; its values would be stored with NULs inside); else its encoding, utf-8 unless the
    bytes say cp1252: non-UTF-8 bytes and no valid multi-byte UTF-8 at all. A UTF-8 file with
    a few broken bytes stays UTF-8: the broken rows go to quarantine. Within a run
    (`one_run`) the same read hashes the file (`run_sha256`)."""
    has_multibyte = has_invalid = settled = False
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    run = _RUN.get()
    sha = hashlib.sha256() if run is not None else None
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if (at := chunk.find(b"\x00")) >= 0:
                raise UnreadableFileError(
                    f"{path}: a NUL byte at offset {offset + at}: not a text file (damaged?)")
            if sha is not None:
                sha.update(chunk)
            if offset == 0 and chunk.startswith(codecs.BOM_UTF8):
                settled = True  # a UTF-8 byte order mark: utf-8, whatever follows
                has_multibyte = True
            offset += len(chunk)
            if settled or chunk.isascii():
                continue
            text = decoder.decode(chunk)
            has_invalid = has_invalid or "\ufffd" in text
            has_multibyte = has_multibyte or _MULTIBYTE.search(text) is not None
            settled = has_multibyte and has_invalid
    if run is not None and sha is not None:
        run[("sha256", Path(path))] = sha.hexdigest()
    return "cp1252" if has_invalid and not has_multibyte else "utf-8"


_MULTIBYTE = re.compile("[^\x00-\x7f\ufffd]")


def csv_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_header(path: Path, kind: FileKind) -> list[str]:
    enc = "utf-8-sig" if kind.encoding == "utf-8" else kind.encoding
    with path.open("r", encoding=enc, errors="replace", newline="") as fh:
        line = first_line(fh, path)
    row = next(csv.reader(io.StringIO(line), delimiter=kind.delimiter), [])
    return [c.strip() for c in row]


def first_line(fh, path: Path, number: int = 1) -> str:
    """The next line of a text file, refused when longer than MAX_LINE_BYTES (a file without
    line breaks is not a CDR export; reading it whole would only waste memory)."""
    line = fh.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise UnreadableFileError(
            f"{path}: line {number} is longer than {MAX_LINE_BYTES} characters"
            " (no line break): not a CDR export")
    return line


_LINE_SIZE = re.compile(r"Maximum line size of (\d+) bytes exceeded")


def duckdb_message(exc: Exception) -> str:
    """One readable line from a DuckDB error (which can quote a whole 50 MB line)."""
    text = str(exc)
    if m := _LINE_SIZE.search(text):
        return f"a line is longer than the limit of {m.group(1)} bytes (a missing line break?)"
    if "Error when sniffing file" in text:
        return ("the CSV cannot be parsed: a quote that is never closed, or rows laid out"
                " otherwise than the header")
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:300]


def walk(paths: list[Path]) -> list[Path]:
    """Files named on the command line, and the known-suffix files under folders, sorted."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and (
                f.suffix.lower() in SUFFIXES or f.name.startswith("queue_log"))))
        elif p.exists():
            out.append(p)
        else:
            raise PbxlensError(f"{p}: no such file or folder")
    return out
