"""The ticket and trace tables of the operations store (`pbxlens.store.schema`), under the
short names this package uses."""

from __future__ import annotations

from pbxlens.store import schema as S

meta = S.meta
companies = S.ticket_companies
contacts = S.ticket_contacts
phones = S.ticket_phones
areas = S.ticket_areas
types = S.ticket_types
types_by_company = S.ticket_types_by_company
priorities = S.ticket_priorities
counters = S.ticket_counters
users = S.ticket_users
user_areas = S.ticket_user_areas
tickets = S.tickets
tags = S.ticket_tags
links = S.ticket_links
calls = S.ticket_calls
shares = S.ticket_shares
unread = S.ticket_unread
attachments = S.ticket_attachments
tracking = S.ticket_tracking
messages = S.ticket_messages
subscriptions = S.ticket_subscriptions
notify_options = S.ticket_notify_options
notify_blacklist = S.ticket_notify_blacklist
outbox = S.ticket_outbox
trace_records = S.trace_records
trace_blacklist = S.trace_blacklist
