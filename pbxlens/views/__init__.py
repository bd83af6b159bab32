"""Saved views (a report with its filters and a relative period, by name), their schedules
(delivered by email as XLSX, CSV or PDF) and background exports.

- `saved`: the views, private or shared with the tenant, and their URL;
- `recurrence`: when a schedule is due (pure calendar arithmetic);
- `schedules`: the schedules and `run_due`, idempotent by schedule and due instant;
- `render`: a view run as a user (the web app's service: roles, tenant, masking) to a file;
- `printed`, `pdf`: the printed page and Chromium's print-to-PDF of it;
- `exports`: background exports with expiring, per-user download links.
Delivery itself (outbox, SMTP, webhooks, the log) is `pbxlens.delivery`.
"""
