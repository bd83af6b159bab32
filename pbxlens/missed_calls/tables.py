"""The missed-call tables of the operations store (`pbxlens.store.schema`), under the short
names this package uses, and a read-only transaction for the lists."""

from __future__ import annotations

from pbxlens.store import ops
from pbxlens.store import schema as S

requests = S.callback_requests
bookings = S.missed_bookings
flushes = S.missed_flushes
dials = S.missed_dials
history = S.missed_history
settings = S.missed_settings
operators = S.missed_operators
live_calls = S.live_calls
users = S.users


reading = ops.reading  # lists and copies: a read-only transaction (store.ops.reading)
