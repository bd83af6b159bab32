"""Size checks on a workbook before a reader allocates it.

A reader of XLSX (calamine) allocates the rectangle between the first and the last cell of a
sheet: a 3 KB workbook with one cell at A1 and one at XFD1048576 asks for 512 GiB. So before
reading, the zip's declared sizes and each sheet's extent (from the cell references in its
XML, streamed in chunks) are checked against the settings, and a workbook over them is refused
with a clear error.

Example:
    >>> column_number(b"XFD")
    16384
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from pbxlens.ingest.sniff import UnreadableFileError

CHUNK = 4 * 1024 * 1024
# A zip member that inflates more than this many times is a zip bomb, not a spreadsheet
# (sheet XML of real exports compresses 5-30 times).
MAX_RATIO = 200
_CELL_COL = re.compile(rb'<c\b[^>]*?\sr="([A-Z]{1,4})\d+"')
_CELL_ROW = re.compile(rb'<c\b[^>]*?\sr="[A-Z]{1,4}(\d{1,9})"')
_ROW_NUM = re.compile(rb'<row\b[^>]*?\sr="(\d{1,9})"')
_DIMENSION = re.compile(rb'<dimension\b[^>]*?\sref="(?:[A-Z]{1,4}\d{1,9}:)?([A-Z]{1,4})(\d{1,9})"')
_CELL_TAG = re.compile(rb"<c[\s>/]")
_ROW_TAG = re.compile(rb"<row[\s>/]")


def column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check(path: Path | IO[bytes], *, max_cells: int, max_unzipped: int,
          name: str | None = None) -> None:
    """Refuse a workbook whose inflated size or any sheet's extent (rows x columns, the larger
    of its declared <dimension> and its cells) is over the limits; a damaged zip is refused
    too. `path` may be an open binary file (`name` then labels the errors)."""
    path_label = name or str(path)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > max_unzipped:
                raise UnreadableFileError(
                    f"{path_label}: the workbook inflates to {total} bytes, over the limit of"
                    f" {max_unzipped} (setting ingest_max_unzipped_bytes)")
            for info in infos:
                if info.file_size > 1024 * 1024 and (
                        info.file_size > MAX_RATIO * max(info.compress_size, 1)):
                    raise UnreadableFileError(
                        f"{path_label}: {info.filename} inflates {info.file_size} bytes from"
                        f" {info.compress_size}: refused as a zip bomb")
            for info in infos:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    rows, cols = sheet_extent(z, info)
                    if rows * cols > max_cells:
                        raise UnreadableFileError(
                            f"{path_label}: sheet {info.filename.rsplit('/', 1)[-1]} spans {rows} rows"
                            f" x {cols} columns, over the limit of {max_cells} cells"
                            " (setting ingest_max_sheet_cells)")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise UnreadableFileError(f"{path_label}: not a readable XLSX workbook ({exc})") from None


def sheet_extent(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column) a reader would allocate for this sheet, from the cell and row
    references; a sheet with unnumbered cells (allowed, rare) is walked exactly instead."""
    rows = cols = 0
    cells = numbered = row_tags = numbered_rows = 0
    carry = b""
    with z.open(info) as fh:
        while True:
            data = fh.read(CHUNK)
            buf = carry + data
            cut = buf.rfind(b"<") if data else len(buf)  # a tag may straddle two chunks
            part, carry = (buf[:cut], buf[cut:]) if cut > 0 else (b"", buf)
            if len(carry) > 64 * 1024:  # a single "tag" this long is not a sheet
                raise UnreadableFileError(f"{info.filename}: malformed sheet XML")
            if dim := _DIMENSION.search(part):  # what openpyxl's reader pads every row to
                cols = max(cols, column_number(dim.group(1)))
                rows = max(rows, int(dim.group(2)))
            col_list, row_list = _CELL_COL.findall(part), _ROW_NUM.findall(part)
            cols = max(cols, 0, *(column_number(c) for c in set(col_list)))
            row_refs = set(_CELL_ROW.findall(part)).union(row_list)
            rows = max(rows, 0, *(int(r) for r in row_refs))
            cells += len(_CELL_TAG.findall(part))
            numbered += len(col_list)
            row_tags += len(_ROW_TAG.findall(part))
            numbered_rows += len(row_list)
            if not data:
                break
    if cells != numbered or row_tags != numbered_rows:
        walked = _walk_extent(z, info)
        return max(rows, walked[0]), max(cols, walked[1])
    return rows, cols


def _walk_extent(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """The extent by an exact walk: an unnumbered row or cell follows the previous one."""
    state = {"row": 0, "col": 0, "rows": 0, "cols": 0}

    def start(name: str, attrs: dict) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "row":
            r = attrs.get("r")
            state["row"] = int(r) if r and r.isdigit() else state["row"] + 1
            state["col"] = 0
            state["rows"] = max(state["rows"], state["row"])
        elif local == "c":
            ref = attrs.get("r", "")
            m = re.fullmatch(r"([A-Z]{1,4})(\d{1,9})", ref)
            if m:
                state["col"] = column_number(m.group(1).encode())
                state["rows"] = max(state["rows"], int(m.group(2)))
            else:
                state["col"] += 1
            state["cols"] = max(state["cols"], state["col"])

    def no_doctype(*_args) -> None:  # a sheet has no DTD: entities would be an attack
        raise UnreadableFileError(f"{info.filename}: refused a DTD in sheet XML")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = no_doctype
    try:
        with z.open(info) as fh:
            parser.ParseFile(fh)
    except expat.ExpatError as exc:
        raise UnreadableFileError(f"{info.filename}: malformed sheet XML ({exc})") from None
    return state["rows"], state["cols"]


def check_with_settings(source: Path | IO[bytes], name: str | None = None) -> None:
    """`check` against the settings (`ingest_max_sheet_cells`, `ingest_max_unzipped_bytes`):
    what every reader of a workbook from outside calls first (ingest, billing, tickets)."""
    from pbxlens.config import get_settings

    s = get_settings()
    check(source, max_cells=s.ingest_max_sheet_cells,
          max_unzipped=s.ingest_max_unzipped_bytes, name=name)


def open_workbook(path: Path) -> Any:
    """The workbook (calamine), after the size checks against the settings."""
    from python_calamine import CalamineError, CalamineWorkbook

    check_with_settings(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except (CalamineError, ValueError, OSError) as exc:
        raise UnreadableFileError(f"{path}: not a readable XLSX workbook ({exc})") from None
