"""Ticket attachments on disk (nexus_modules.md B.2 "Allegati").

A file is accepted when its size is within `ticket_attachment_max_bytes` and its content type is
on `ticket_attachment_types`. The type is taken from the file name's extension (a fixed table,
not the machine's mime.types), must agree with the type the browser declared (when it declared
a specific one) and with the file's first bytes (PDF, PNG, JPEG, GIF, ZIP-based office files;
text must be text), so a renamed executable is refused. Files are streamed to disk in chunks
(never held whole in memory), named by a random id, and served back only through
`open_attachment`, which checks that the row exists.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from pbxlens.config import get_settings
from pbxlens.tickets import TicketError, ticket
from pbxlens.tickets import schema as S

CHUNK = 64 * 1024
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TYPES = {  # extension -> content type
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".zip": "application/zip",
    ".xlsx": _XLSX,
    ".docx": _DOCX,
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".eml": "message/rfc822",
    ".exe": "application/x-msdownload",
    ".html": "text/html",
    ".htm": "text/html",
    ".svg": "image/svg+xml",
    ".js": "text/javascript",
}
_MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
_ZIPPED = (
    "application/zip",
    _XLSX,
    _DOCX,
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)
_TEXT = ("text/plain", "text/csv", "message/rfc822")
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class AttachmentError(TicketError):
    """A refused file (too large, type not allowed, content not matching its name)."""


def folder_for(store_path: Path | str) -> Path:
    configured = get_settings().ticket_attachments_dir
    return Path(configured) if configured else Path(f"{store_path}.attachments")


def allowed_types() -> set[str]:
    return {t.strip().lower() for t in get_settings().ticket_attachment_types.split(",") if t.strip()}


def safe_name(filename: str) -> str:
    """
    Example:
        >>> safe_name("../../etc/pass wd?.txt")
        'pass wd_.txt'
    """
    name = _SAFE.sub("_", Path((filename or "").replace("\\", "/")).name).strip(" .")
    return name[:120] or "file"


def content_type(filename: str, declared: str | None, allowed: Iterable[str]) -> str:
    ext = Path(filename).suffix.lower()
    ctype = TYPES.get(ext)
    allowed = {a.lower() for a in allowed}
    if ctype is None or ctype not in allowed:
        raise AttachmentError(
            f"{filename}: this type of file is not allowed (allowed: {', '.join(sorted(allowed))})",
            key="att_err_type", name=filename, allowed=", ".join(sorted(allowed)),
        )
    d = (declared or "").split(";")[0].strip().lower()
    if (
        d
        and d not in ("application/octet-stream", ctype)
        and not (ctype == "text/csv" and d in ("text/plain", "application/vnd.ms-excel"))
    ):
        raise AttachmentError(f"{filename}: declared as {d}, but its name says {ctype}",
                              key="att_err_declared", name=filename, declared=d, type=ctype)
    return ctype


def _check_content(filename: str, ctype: str, head: bytes) -> None:
    ok = True
    if ctype in _MAGIC:
        ok = head.startswith(_MAGIC[ctype])
    elif ctype in _ZIPPED:
        ok = head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")
    elif ctype in _TEXT:
        ok = b"\x00" not in head
    if not ok:
        raise AttachmentError(f"{filename}: its content is not a {ctype} file",
                              key="att_err_content", name=filename, type=ctype)


@dataclass(frozen=True)
class StoredFile:
    """A file written to the attachment folder, not yet recorded."""

    path: Path
    filename: str
    content_type: str
    size_bytes: int
    sha256: str


def store_file(
    folder: Path,
    ticket_id: int,
    filename: str,
    data: BinaryIO | bytes,
    *,
    declared_type: str | None = None,
    max_bytes: int | None = None,
    allowed: Iterable[str] | None = None,
) -> StoredFile:
    """Check and stream one file to disk (no transaction is open meanwhile: a slow disk holds
    no lock of the operations store). A refused file leaves nothing behind."""
    max_bytes = get_settings().ticket_attachment_max_bytes if max_bytes is None else max_bytes
    name = safe_name(filename)
    ctype = content_type(name, declared_type, allowed_types() if allowed is None else allowed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{ticket_id}-{secrets.token_hex(12)}"
    tmp = folder / f".{stored.name}.part"
    digest, size, head = hashlib.sha256(), 0, b""
    read = (io.BytesIO(data) if isinstance(data, bytes | bytearray) else data).read
    try:
        with tmp.open("wb") as out:
            while chunk := read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentError(f"{name}: larger than the limit of {max_bytes:,} bytes",
                                          key="att_err_size", name=name, limit=max_bytes)
                if len(head) < 512:
                    head += chunk[: 512 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise AttachmentError(f"{name}: empty file", key="att_err_empty", name=name)
        _check_content(name, ctype, head)
        os.replace(tmp, stored)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StoredFile(stored, name, ctype, size, digest.hexdigest())


def record(conn: sa.Connection, ticket_id: int, f: StoredFile, *, user_id: int | None = None) -> int:
    """The attachment's row; if it cannot be written, the file is removed."""
    try:
        ticket.require(conn, ticket_id)
        return conn.execute(
            S.attachments.insert()
            .values(
                ticket_id=ticket_id,
                filename=f.filename,
                content_type=f.content_type,
                size_bytes=f.size_bytes,
                sha256=f.sha256,
                stored_name=f.path.name,
                uploaded_by=user_id,
            )
            .returning(S.attachments.c.id)
        ).scalar_one()
    except BaseException:
        f.path.unlink(missing_ok=True)
        raise


def save(
    conn: sa.Connection,
    folder: Path,
    ticket_id: int,
    filename: str,
    data: BinaryIO | bytes,
    *,
    declared_type: str | None = None,
    user_id: int | None = None,
    max_bytes: int | None = None,
    allowed: Iterable[str] | None = None,
) -> int:
    """Store one file for the ticket and record it in `conn`'s transaction; returns its id."""
    ticket.require(conn, ticket_id)
    f = store_file(folder, ticket_id, filename, data, declared_type=declared_type,
                   max_bytes=max_bytes, allowed=allowed)
    return record(conn, ticket_id, f, user_id=user_id)


def list_for(conn: sa.Connection, ticket_id: int) -> list[dict]:
    a = S.attachments.c
    return [
        dict(r)
        for r in conn.execute(
            sa.select(S.attachments).where(a.ticket_id == ticket_id).order_by(a.id)
        ).mappings()
    ]


def open_attachment(conn: sa.Connection, folder: Path, attachment_id: int) -> tuple[dict, Path]:
    r = conn.execute(sa.select(S.attachments).where(S.attachments.c.id == attachment_id)).mappings().first()
    if r is None:
        raise TicketError(f"no attachment {attachment_id}")
    path = Path(folder) / r["stored_name"]
    if not path.is_file():
        raise TicketError(f"attachment {attachment_id} is missing on disk")
    return dict(r), path
