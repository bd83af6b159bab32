"""Missed calls ("Voip to Call", nexus_modules.md A): callback requests built from unanswered
inbound calls, booked and called back by operators, assigned and flushed by supervisors.

In the analytics store (DuckDB, the writer):
- ``numbers``    the one number normalizer (R10) in SQL and in Python (phonenumbers);
- ``sources``    the ONE SQL source of MissedCallEvents (CDR, dynamic routing, time control)
                 and of the CDR contacts that close requests or count as callback attempts;
- ``reconcile``  the A.9 state machine as set-based DuckDB SQL, per (tenant, number),
                 incremental (the numbers an ingest batch touched) and idempotent;
- ``sync``       requests pushed to the operations store; bookings, flushes and settings
                 copied back for the reports (writer jobs).

In the operations store (SQLAlchemy, SQLite or PostgreSQL), what people do:
- ``listing``    the lists with the spec's filters, server-side sorting and paging, privacy;
- ``operations`` book, cancel, assign, flush, dial, settings: one short transaction each;
- ``click2call`` the `tel:` link and the PBX originate interface;
- ``actor``, ``errors``, ``settings``, ``tables``; ``cli`` is `pbxlens missed ...`.

Reports live in ``pbxlens.reports.missed`` (the catalog family ``missed``); the JSON API in
``pbxlens.dashboards.missed_api``.
"""
