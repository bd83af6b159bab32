-- Live feeds (issue 7): PBX REST pull watermarks and the three webhook sources.
-- Each webhook row is committed before the HTTP 2xx answer; batch_id points at the
-- ingest_batches row of the group commit that stored it (format webhook_<source>).

-- The last day a pull loaded, per PBX + tenant + feed (`<base url>|<domain>|cdr`).
-- The next pull starts again at last_day - 1 (late rows), see ingest/pbx_api.py.
CREATE TABLE pull_watermarks (
    source     TEXT PRIMARY KEY,
    last_day   DATE NOT NULL,
    pulled_at  TIMESTAMPTZ NOT NULL,
    calls      BIGINT NOT NULL DEFAULT 0      -- calls loaded (new or changed) by all pulls
);

-- PBX web-service notifications (formats.md §2). Key: (pbx_serial, event_key) where event_key
-- is event_id, or when an event carries no id the sha256 of its canonical JSON.
CREATE TABLE pbx_events (
    pbx_serial   TEXT NOT NULL DEFAULT '',
    event_key    TEXT NOT NULL,
    event_id     BIGINT,
    event_name   TEXT NOT NULL,
    severity     SMALLINT,                  -- 4 = DEBUG ... 0 = FATAL (pbx_data.md §3.1)
    event_ts     TIMESTAMPTZ,
    tenant       TEXT NOT NULL DEFAULT 'default',
    unique_id    TEXT,                      -- params.unique_id: the CDR join key
    params       JSON,
    received_at  TIMESTAMPTZ NOT NULL,
    batch_id     BIGINT NOT NULL,
    PRIMARY KEY (pbx_serial, event_key)
);

-- Missed-call dynamic routing (nexus_modules.md A.3): one row per call.
CREATE TABLE dynamic_routing_requests (
    tenant       TEXT NOT NULL DEFAULT 'default',
    unique_id    TEXT NOT NULL,
    caller       TEXT,
    called       TEXT,
    servicecode  TEXT,
    param1       TEXT,                      -- the queue name
    param2       TEXT,                      -- 'queue'
    param3       TEXT,
    param4       TEXT,
    param5       TEXT,
    received_at  TIMESTAMPTZ NOT NULL,
    remote_addr  TEXT,
    raw          TEXT,
    batch_id     BIGINT NOT NULL,
    PRIMARY KEY (tenant, unique_id)
);

-- Feedback / routing log (nexus_modules.md D.1). Several routings may answer for one call (one
-- per question), so the key is the call, the group and the body's sha256: a resent body is
-- stored once.
CREATE TABLE feedback_requests (
    tenant       TEXT NOT NULL DEFAULT 'default',
    unique_id    TEXT NOT NULL,
    grp          TEXT NOT NULL DEFAULT '',
    body_sha256  TEXT NOT NULL,
    caller       TEXT,
    called       TEXT,
    param1       TEXT,
    param2       TEXT,
    param3       TEXT,
    param4       TEXT,
    param5       TEXT,
    rating       SMALLINT,                  -- int(param1) when 1..6, else NULL (not counted)
    received_at  TIMESTAMPTZ NOT NULL,
    remote_addr  TEXT,
    raw          TEXT,
    batch_id     BIGINT NOT NULL,
    PRIMARY KEY (tenant, unique_id, grp, body_sha256)
);

-- Reconciliation with the CDR: is the call of this row already in `calls`?
CREATE VIEW pbx_events_reconciled AS
SELECT e.*, e.unique_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM calls c WHERE c.tenant = e.tenant AND c.unique_id = e.unique_id) AS in_calls
FROM pbx_events e;

CREATE VIEW dynamic_routing_reconciled AS
SELECT r.*, EXISTS (
    SELECT 1 FROM calls c WHERE c.tenant = r.tenant AND c.unique_id = r.unique_id) AS in_calls
FROM dynamic_routing_requests r;

CREATE VIEW feedback_reconciled AS
SELECT f.*, EXISTS (
    SELECT 1 FROM calls c WHERE c.tenant = f.tenant AND c.unique_id = f.unique_id) AS in_calls
FROM feedback_requests f;
