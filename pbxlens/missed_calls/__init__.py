"""Missed calls ("Voip to Call", nexus_modules.md A): callback requests built from unanswered
inbound calls, booked and called back by operators, assigned and flushed by supervisors.

- ``numbers``    the one number normalizer (R10) in SQL and in Python (phonenumbers);
- ``sources``    the ONE SQL source of MissedCallEvents (CDR, dynamic routing, time control)
                 and of the CDR contacts that close requests or count as callback attempts;
- ``reconcile``  the A.9 state machine as set-based DuckDB SQL, per (tenant, number),
                 incremental (the numbers an ingest batch touched) and idempotent;
- ``operations`` lists, booking, cancel, assign, flush, click to call, history (SQLAlchemy
                 for the tables people edit);
- ``click2call`` the `tel:` link and the PBX originate interface;
- ``cli``        `pbxlens missed ...`.

Reports live in ``pbxlens.reports.missed`` (the catalog family ``missed``).
"""
