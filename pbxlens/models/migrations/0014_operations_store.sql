-- The rows people edit moved to the operations store (SQLAlchemy: SQLite or PostgreSQL,
-- pbxlens/store/schema.py). pbxlens.store.legacy copied them there just before this migration.
-- Kept here as copies the analytics writer refreshes for the reports and the reconciliation
-- that read them: missed_bookings, missed_flushes, missed_settings.
DROP TABLE IF EXISTS web_users;
DROP TABLE IF EXISTS web_sessions;
DROP TABLE IF EXISTS web_login_failures;
DROP TABLE IF EXISTS web_widgets;
DROP TABLE IF EXISTS web_settings;
DROP SEQUENCE IF EXISTS web_user_seq;
DROP SEQUENCE IF EXISTS web_widget_seq;
DROP TABLE IF EXISTS missed_dials;
DROP TABLE IF EXISTS missed_history;
DROP SEQUENCE IF EXISTS missed_history_seq;
DROP TABLE IF EXISTS ticket_companies;
DROP TABLE IF EXISTS ticket_contacts;
DROP TABLE IF EXISTS ticket_phones;
DROP TABLE IF EXISTS ticket_areas;
DROP TABLE IF EXISTS ticket_types;
DROP TABLE IF EXISTS ticket_types_by_company;
DROP TABLE IF EXISTS ticket_priorities;
DROP TABLE IF EXISTS ticket_counters;
DROP TABLE IF EXISTS ticket_users;
DROP TABLE IF EXISTS ticket_user_areas;
DROP TABLE IF EXISTS tickets;
DROP TABLE IF EXISTS ticket_tags;
DROP TABLE IF EXISTS ticket_links;
DROP TABLE IF EXISTS ticket_calls;
DROP TABLE IF EXISTS ticket_shares;
DROP TABLE IF EXISTS ticket_unread;
DROP TABLE IF EXISTS ticket_attachments;
DROP TABLE IF EXISTS ticket_tracking;
DROP TABLE IF EXISTS ticket_messages;
DROP TABLE IF EXISTS ticket_subscriptions;
DROP TABLE IF EXISTS ticket_notify_options;
DROP TABLE IF EXISTS ticket_notify_blacklist;
DROP TABLE IF EXISTS ticket_outbox;
DROP TABLE IF EXISTS trace_records;
DROP TABLE IF EXISTS trace_blacklist;
DROP SEQUENCE IF EXISTS ticket_company_seq;
DROP SEQUENCE IF EXISTS ticket_contact_seq;
DROP SEQUENCE IF EXISTS ticket_phone_seq;
DROP SEQUENCE IF EXISTS ticket_seq;
DROP SEQUENCE IF EXISTS ticket_attachment_seq;
DROP SEQUENCE IF EXISTS ticket_tracking_seq;
DROP SEQUENCE IF EXISTS ticket_message_seq;
DROP SEQUENCE IF EXISTS ticket_outbox_seq;
DROP SEQUENCE IF EXISTS trace_record_seq;
