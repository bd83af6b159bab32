"""Tickets and call trace (nexus_modules.md B): companies and contacts with their numbers,
tickets with tracking, messages, attachments and a notification outbox, trace call records,
list filters, XLSX/CSV import and export. The tables are operational (people edit them): they
go through SQLAlchemy Core (`schema.py`), in transactions taken under the server's single-writer
lock (`pbxlens.dashboards.store.Store.sa_write`). Every public function takes that transaction's
`sa.Connection`, so that a page, the CLI or an import composes several of them atomically."""

from pbxlens import PbxlensError


class TicketError(PbxlensError):
    """A refused ticket/trace operation, with a one-line reason for the user."""
