"""Builders of hostile input files (made by code, so no binary is committed)."""

from __future__ import annotations

import zipfile
from pathlib import Path

HEADER = ("unique_id,status,start_datetime,end_datetime,duration,bill_secs,caller,called,"
          "source_type,destination_type")
ROW = ("1700000000.{n},OK,{start},{end},00:00:40,35.5,201,202,local_exten,local_exten")


def cdr_row(n: int, start: str = "2023-11-14 23:13:20", end: str = "2023-11-14 23:14:00") -> str:
    return ROW.format(n=n, start=start, end=end)


def good_csv(path: Path, n: int = 900) -> Path:
    """A small valid CDR export with one call, 1700000000.<n>."""
    path.write_text(HEADER + "\n" + cdr_row(n) + "\n", encoding="utf-8")
    return path


_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
       'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
       'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
       'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
       'worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def _cell(ref: str | None, text: str) -> str:
    r = f' r="{ref}"' if ref else ""
    return f'<c{r} t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx(path: Path, rows: list[tuple[int | None, list[tuple[str | None, str]]]],
         dimension: str | None = None, pad_bytes: int = 0) -> Path:
    """A workbook written part by part: rows of (row number or None, [(cell ref or None,
    text)]), an optional declared <dimension>, and optional padding (a zip bomb's payload)."""
    body = "".join(
        ("<row>" if n is None else f'<row r="{n}">')
        + "".join(_cell(r, t) for r, t in cells) + "</row>"
        for n, cells in rows)
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    pad = " " * pad_bytes
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'{dim}<sheetData>{body}</sheetData>{pad}</worksheet>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def xlsx_dimension_bomb(path: Path) -> Path:
    """A valid ~3 KB workbook whose used range is A1:XFD1048576: one header cell and one cell
    in the last column of the last row (a reader that allocates the range needs 512 GiB)."""
    return xlsx(path, [(1, [("A1", "unique_id")]), (1048576, [("XFD1048576", "x")])],
                dimension="A1:XFD1048576")
