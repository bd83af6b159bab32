"""The missed-call tables of the operations store (`pbxlens.store.schema`), under the short
names this package uses."""

from __future__ import annotations

from pbxlens.store import schema as S

meta = S.meta
bookings = S.missed_bookings
flushes = S.missed_flushes
dials = S.missed_dials
history = S.missed_history
settings = S.missed_settings
requests = S.callback_requests
