"""What a file is: its kind (csv/json/xml/xlsx), its text encoding, its CSV delimiter.

Pure inspection of bytes; nothing here touches the store.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
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


def detect(path: Path) -> FileKind:
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
        refuse_nul(path)
        encoding = text_encoding(path)
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


def refuse_nul(path: Path) -> None:
    """A NUL byte anywhere in an 8-bit text file: damaged or binary, refused as a whole (its
    values would be stored with NULs inside)."""
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if (at := chunk.find(b"\x00")) >= 0:
                raise UnreadableFileError(
                    f"{path}: a NUL byte at offset {offset + at}: not a text file (damaged?)")
            offset += len(chunk)


def text_encoding(path: Path) -> str:
    """utf-8 unless the bytes say cp1252: non-UTF-8 bytes and no valid multi-byte UTF-8 at all.

    A UTF-8 file with a few broken bytes stays UTF-8: the broken rows go to quarantine.
    """
    has_multibyte = has_invalid = False
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8"
        fh.seek(0)
        while chunk := fh.read(CHUNK):
            if chunk.isascii():
                continue
            text = decoder.decode(chunk)
            has_invalid = has_invalid or "\ufffd" in text
            has_multibyte = has_multibyte or _MULTIBYTE.search(text) is not None
            if has_multibyte and has_invalid:
                break
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
