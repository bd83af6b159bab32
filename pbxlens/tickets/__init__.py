"""Tickets and call trace (nexus_modules.md B): companies and contacts with their numbers,
tickets with tracking, messages, attachments and a notification outbox, trace call records,
list filters, XLSX/CSV import and export.

The tables live in the operations store (`pbxlens.store.schema`, SQLAlchemy Core on SQLite or
PostgreSQL). Every public function of the row-level modules takes a `sa.Connection`, so that
a page, the CLI or an import composes several of them in one short transaction
(`Stores.ops_write()`); the functions that feed a screen (`views`, `trace.mask`) take the
`Stores` and read the operations store, then the CDR in DuckDB (`calls`), never joining the two
in SQL, and mask external numbers for users without the privacy right. Nothing here imports the
web app."""

from datetime import UTC, datetime

from pbxlens import PbxlensError


class TicketError(PbxlensError):
    """A refused ticket/trace operation, with a one-line reason for the user."""


def now() -> datetime:
    return datetime.now(UTC)
