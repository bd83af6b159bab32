-- Provenance: one row per loaded batch (file, API page or webhook body).
CREATE SEQUENCE IF NOT EXISTS ingest_batch_seq START 1;
CREATE TABLE ingest_batches (
    batch_id          BIGINT PRIMARY KEY DEFAULT nextval('ingest_batch_seq'),
    source            TEXT NOT NULL,          -- path, URL or endpoint
    sha256            TEXT NOT NULL,
    format            TEXT NOT NULL,          -- e.g. kalliope_cdr_csv_detailed, directory_json
    tenant            TEXT NOT NULL DEFAULT 'default',
    rows_read         BIGINT NOT NULL DEFAULT 0,
    rows_loaded       BIGINT NOT NULL DEFAULT 0,
    rows_duplicate    BIGINT NOT NULL DEFAULT 0,
    rows_quarantined  BIGINT NOT NULL DEFAULT 0,
    calls_loaded      BIGINT NOT NULL DEFAULT 0,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ NOT NULL,
    parse_s           DOUBLE,
    load_s            DOUBLE
);

-- Rows that could not be loaded, kept verbatim with the reason.
CREATE TABLE quarantine (
    batch_id   BIGINT NOT NULL,
    source     TEXT NOT NULL,
    line       BIGINT,        -- physical line in the file (1 = header), when known
    record     BIGINT,        -- record number in the file (1 = first data record)
    raw        TEXT,
    reason     TEXT NOT NULL
);

-- Directory (dimensions). Every row carries its tenant ('default' on single-tenant PBXs).
CREATE TABLE tenants (domain TEXT PRIMARY KEY, name TEXT);
CREATE TABLE organizations (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, PRIMARY KEY (tenant, id));
CREATE TABLE org_units (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, organization TEXT,
                        PRIMARY KEY (tenant, id));
CREATE TABLE cost_centers (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, PRIMARY KEY (tenant, id));
CREATE TABLE divisions (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, PRIMARY KEY (tenant, id));
CREATE TABLE operators (
    tenant TEXT NOT NULL, extension TEXT NOT NULL, name TEXT,
    organization TEXT, org_unit TEXT, cost_center TEXT, division TEXT, mobile TEXT,
    PRIMARY KEY (tenant, extension)
);
-- The SIP accounts of an operator (desk phone, app, hot desk ...).
CREATE TABLE accounts (
    tenant TEXT NOT NULL, account TEXT NOT NULL, extension TEXT NOT NULL, kind TEXT,
    PRIMARY KEY (tenant, account)
);
CREATE TABLE queues (
    tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, strategy TEXT, max_wait_s INTEGER,
    checktime TEXT, PRIMARY KEY (tenant, id)
);
CREATE TABLE queue_members (
    tenant TEXT NOT NULL, queue_id TEXT NOT NULL, account TEXT NOT NULL, penalty INTEGER,
    PRIMARY KEY (tenant, queue_id, account)
);
CREATE TABLE ring_groups (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, PRIMARY KEY (tenant, id));
CREATE TABLE ring_group_members (
    tenant TEXT NOT NULL, group_id TEXT NOT NULL, extension TEXT NOT NULL,
    PRIMARY KEY (tenant, group_id, extension)
);
CREATE TABLE ivrs (tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, PRIMARY KEY (tenant, id));
CREATE TABLE checktimes (
    tenant TEXT NOT NULL, id TEXT NOT NULL, name TEXT, rules JSON, holidays TEXT,
    PRIMARY KEY (tenant, id)
);
-- Gateways / trunks / lines. channel_limit 0 or NULL = no limit configured (no saturation colours).
CREATE TABLE gateways (
    tenant TEXT NOT NULL, name TEXT NOT NULL, kind TEXT, channel_limit INTEGER,
    country_code TEXT, numbers JSON, PRIMARY KEY (tenant, name)
);
CREATE TABLE outbound_configurations (
    tenant TEXT NOT NULL, name TEXT NOT NULL, gateway TEXT, channel_limit INTEGER,
    PRIMARY KEY (tenant, name)
);
CREATE TABLE billing_codes (tenant TEXT NOT NULL, code TEXT NOT NULL, description TEXT,
                            PRIMARY KEY (tenant, code));

-- One row per CDR call (Kalliope "Registro delle chiamate").
-- No PRIMARY KEY: natural-key uniqueness (tenant, unique_id, leg_branch) is enforced by the
-- loader's anti-join; an ART index over tens of millions of rows costs more than it protects.
CREATE TABLE calls (
    tenant            TEXT NOT NULL,
    unique_id         TEXT NOT NULL,       -- never a number: 1455617312.30 <> 1455617312.3
    leg_branch        SMALLINT NOT NULL,   -- 0; 1 for the second row of click2call/callback (K-23760)
    unique_epoch      BIGINT,              -- integer part of unique_id (start, UTC)
    source_type       TEXT,
    destination_type  TEXT,
    status            TEXT NOT NULL,       -- normalized (vocabulary.STATUSES)
    status_raw        TEXT,
    start_ts          TIMESTAMPTZ NOT NULL,
    start_local       TIMESTAMP NOT NULL,  -- start as the PBX wall clock: buckets days and hours
    channel_up_ts     TIMESTAMPTZ,
    answer_ts         TIMESTAMPTZ,
    end_ts            TIMESTAMPTZ,
    answered_by       TEXT,
    caller            TEXT,
    caller_name       TEXT,
    caller_anonymous  BOOLEAN,
    called            TEXT,
    gateway_name      TEXT,
    account_code      TEXT,
    duration_s        INTEGER NOT NULL,
    bill_s            DECIMAL(12, 3) NOT NULL,
    src_peer_name     TEXT,
    src_ip            TEXT,
    src_port          INTEGER,
    src_extension     TEXT,
    direction         TEXT NOT NULL,       -- incoming / outgoing / internal
    path_len          INTEGER NOT NULL,
    path_incomplete   BOOLEAN NOT NULL,    -- some detail rows of this call went to quarantine
    content_hash      UBIGINT NOT NULL,    -- hash of the normalized call fields
    path_hash         UBIGINT,             -- hash of the normalized path; NULL = no path known
    batch_id          BIGINT NOT NULL,
    extra             JSON                 -- columns the reader did not know, verbatim
);

-- The call path: one row per detail line, in path order (seq from 1).
CREATE TABLE call_legs (
    tenant              TEXT NOT NULL,
    unique_id           TEXT NOT NULL,
    leg_branch          SMALLINT NOT NULL,
    seq                 INTEGER NOT NULL,     -- path order; a gap where a row was quarantined
    source_num          TEXT,
    source_anonymous    BOOLEAN,
    dest_type           TEXT,
    dest_id             TEXT,
    dest_name           TEXT,
    dest_num            TEXT,
    enter_ts            TIMESTAMPTZ,
    enqueue_ts          TIMESTAMPTZ,
    answer_ts           TIMESTAMPTZ,
    exit_ts             TIMESTAMPTZ,
    exit_cause          TEXT,              -- normalized (vocabulary.EXIT_CAUSES, open set)
    exit_cause_raw      TEXT,
    answered_by         TEXT,
    waiting_s           DECIMAL(10, 3),
    mapped_source_num   TEXT,
    mapped_dst_num      TEXT,
    account_code        TEXT,
    checktime_in_hours  BOOLEAN,
    batch_id            BIGINT NOT NULL
);
