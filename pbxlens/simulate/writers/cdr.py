"""Streaming CDR writers: CSV (summary/detailed), JSON, XML, XLSX."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from ..truth import Call
from .common import (
    DETAIL_FIELDS,
    EMPTY_DETAIL,
    TimeFormatter,
    call_fields,
    format_raw,
)

XLSX_MAX_ROWS = 1_048_576


class WriterBase:
    filename = ""

    def __init__(self, out_dir: Path, tenant: bool = False):
        self.path = out_dir / self.filename
        self.tenant = tenant  # a multi-tenant run: a tenant column ends the call fields
        self.cfields = call_fields(tenant)

    def write(self, batch) -> None:  # batch: list[(call_vals, [detail_vals...])]
        raise NotImplementedError

    def close(self) -> None:
        pass


def csv_text(rows, ncols: int) -> str:
    """``csv.writer(lineterminator="\\n")`` output for ``rows`` (tuples of ``ncols`` strings).

    Fast path: plain joins, valid when no field holds a delimiter, quote or line break (checked
    on the whole text: exactly ``ncols - 1`` commas and one newline per row, no quote or CR);
    otherwise the csv module writes the rows (identical output either way)."""
    text = "".join([",".join(r) + "\n" for r in rows])
    n = len(rows)
    if (text.count(",") == (ncols - 1) * n and text.count("\n") == n and '"' not in text
            and "\r" not in text):
        return text
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


class CsvSummaryWriter(WriterBase):
    filename = "cdr_summary.csv"

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.f = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.f.write(csv_text([self.cfields], len(self.cfields)))

    def write(self, batch) -> None:
        self.f.write(csv_text([cv for cv, _d in batch], len(self.cfields)))

    def close(self) -> None:
        self.f.close()


class CsvDetailedWriter(WriterBase):
    filename = "cdr_detailed.csv"

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.f = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        head = self.cfields + DETAIL_FIELDS
        self.f.write(csv_text([head], len(head)))

    def write(self, batch) -> None:
        # the call part of a line is joined once per call, then prefixed to each detail part
        nc, nd = len(self.cfields), len(DETAIL_FIELDS)
        empty = ",".join(EMPTY_DETAIL) + "\n"
        parts = []
        app = parts.append
        n = 0
        for cv, dets in batch:
            head = ",".join(cv) + ","
            if dets:
                for dv in dets:
                    app(head + ",".join(dv) + "\n")
                n += len(dets)
            else:
                app(head + empty)
                n += 1
        text = "".join(parts)
        if not (text.count(",") == (nc + nd - 1) * n and text.count("\n") == n
                and '"' not in text and "\r" not in text):
            text = csv_text([cv + dv for cv, dets in batch for dv in (dets or (EMPTY_DETAIL,))],
                             nc + nd)
        self.f.write(text)

    def close(self) -> None:
        self.f.close()


class JsonWriter(WriterBase):
    filename = "cdr.json"

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.f = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self.f.write("[")
        self.first = True

    def write(self, batch) -> None:
        parts = []
        dumps = json.dumps
        cfields = self.cfields
        for cv, dets in batch:
            obj = dict(zip(cfields, cv, strict=True))
            obj["details"] = [dict(zip(DETAIL_FIELDS, dv, strict=True)) for dv in dets]
            parts.append(dumps(obj, ensure_ascii=False))
        if not parts:
            return
        sep = ",\n"
        self.f.write(("\n" if self.first else sep) + sep.join(parts))
        self.first = False

    def close(self) -> None:
        self.f.write("\n]\n")
        self.f.close()


def xml_element(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"


class XmlWriter(WriterBase):
    filename = "cdr.xml"

    def __init__(self, out_dir: Path, tenant: bool = False):
        super().__init__(out_dir, tenant)
        self.f = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self.f.write('<?xml version="1.0" encoding="UTF-8"?>\n<cdr>\n')

    def write(self, batch) -> None:
        out = []
        app = out.append
        cfields = self.cfields
        for cv, dets in batch:
            app("<call>")
            for k, v in zip(cfields, cv, strict=True):
                app(xml_element(k, v))
            if dets:
                app("<details>")
                for dv in dets:
                    app("<detail>")
                    for k, v in zip(DETAIL_FIELDS, dv, strict=True):
                        app(xml_element(k, v))
                    app("</detail>")
                app("</details>")
            else:
                app("<details/>")
            app("</call>\n")
        self.f.write("".join(out))

    def close(self) -> None:
        self.f.write("</cdr>\n")
        self.f.close()


class XlsxDetailedWriter(WriterBase):
    """The detailed layout; every cell is a text string. Rows beyond the XLSX sheet limit
    continue on further sheets (``cdr_2``, ...), each with its own header row."""

    filename = "cdr_detailed.xlsx"

    def __init__(self, out_dir: Path, tenant: bool = False):
        import xlsxwriter

        super().__init__(out_dir, tenant)
        self.wb = xlsxwriter.Workbook(str(self.path), {"constant_memory": True,
                                                       "strings_to_numbers": False,
                                                       "strings_to_formulas": False,
                                                       "strings_to_urls": False})
        # fixed document date => byte-identical files for the same seed
        self.wb.set_properties({"created": datetime(2000, 1, 1)})
        self.sheet_no = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheet_no += 1
        self.ws = self.wb.add_worksheet("cdr" if self.sheet_no == 1 else f"cdr_{self.sheet_no}")
        for c, h in enumerate(self.cfields + DETAIL_FIELDS):
            self.ws.write_string(0, c, h)
        self.row = 1

    def _row(self, values) -> None:
        if self.row >= XLSX_MAX_ROWS:
            self._new_sheet()
        ws = self.ws
        r = self.row
        for c, v in enumerate(values):
            if v:
                ws.write_string(r, c, v)
        self.row = r + 1

    def write(self, batch) -> None:
        for cv, dets in batch:
            if dets:
                for dv in dets:
                    self._row(cv + dv)
            else:
                self._row(cv + EMPTY_DETAIL)

    def close(self) -> None:
        self.wb.close()


FORMAT_WRITERS = {
    "csv": CsvSummaryWriter,
    "csv-detailed": CsvDetailedWriter,
    "json": JsonWriter,
    "xml": XmlWriter,
    "xlsx": XlsxDetailedWriter,
}


def format_batch(calls: list[Call], fmt: TimeFormatter, tenant: bool = False):
    """``Call`` objects -> ``[(call values, [detail values, ...]), ...]`` (all strings)."""
    return format_raw(calls, fmt, objects=True, tenant=tenant)
