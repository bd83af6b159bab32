-- Missed calls / callback requests (issue 9, nexus_modules.md A). Two kinds of tables:
--
-- * derived, rebuilt per (tenant, number) by pbxlens.missed_calls.reconcile in DuckDB SQL:
--   missed_events (MissedCallEvent, A.2), missed_contacts (the CDR calls that can close a
--   request or count as a callback attempt), missed_requests (CallbackRequest, A.9) and
--   missed_attempts (outbound calls linked to a request);
-- * operational, edited by people through SQLAlchemy (pbxlens/missed_calls/tables.py mirrors
--   them): bookings, flushes, click-to-call dials in progress, the history and the settings.
--
-- Numbers: `call_num` is the national dialled form of pbxlens.missed_calls.numbers (R10).

-- One row per imported unanswered call (key tenant, unique_id).
CREATE TABLE missed_events (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    call_num      TEXT NOT NULL,
    caller        TEXT,                  -- as the source wrote it
    called        TEXT,                  -- DID dialled by the customer
    event_ts      TIMESTAMPTZ NOT NULL,  -- CDR start when known, else receipt time (A.2)
    queue         TEXT,
    type          TEXT NOT NULL,         -- queue | call | checktime
    source        TEXT NOT NULL,         -- cdr | dynamic_routing | time_control
    account_code  TEXT,
    servicecode   TEXT
);

-- CDR calls of a number that matter to requests: answered inbound calls (R7) and outbound
-- calls to the number (R5/R6, one row per unique_id whatever its branches, errata).
CREATE TABLE missed_contacts (
    tenant      TEXT NOT NULL,
    unique_id   TEXT NOT NULL,
    call_num    TEXT NOT NULL,
    kind        TEXT NOT NULL,           -- inbound | outbound
    start_ts    TIMESTAMPTZ NOT NULL,
    end_ts      TIMESTAMPTZ NOT NULL,
    status      TEXT NOT NULL,
    bill_s      DECIMAL(12, 3) NOT NULL,
    person      BOOLEAN NOT NULL,        -- inbound: answered by a person (not a voicemail)
    extension   TEXT                     -- outbound: the dialling extension/account
);

-- CallbackRequest (A.2, A.9): one per (tenant, call_num) run between closures.
CREATE TABLE missed_requests (
    tenant         TEXT NOT NULL,
    request_key    TEXT NOT NULL,        -- call_num|unique_id of its first event
    call_num       TEXT NOT NULL,
    first_call     TIMESTAMPTZ NOT NULL,
    last_call      TIMESTAMPTZ NOT NULL,
    day            DATE NOT NULL,        -- first_call, PBX local day
    num_calls      INTEGER NOT NULL,
    num_recalled   INTEGER NOT NULL,     -- unsuccessful callback attempts (R6)
    last_recalled  TIMESTAMPTZ,
    queue          TEXT,                 -- queue of the most recent event (MC-1)
    type           TEXT,
    source         TEXT,
    account_code   TEXT,
    state          TEXT NOT NULL,        -- open | closed
    closure        TEXT,                 -- served_inbound | handled_with_callback | forced_closure
    closed_at      TIMESTAMPTZ,
    closed_by      TEXT,                 -- unique_id of the closing call, or the flushing user
    recall_s       INTEGER               -- first successful callback start - first_call
);                                       -- key (tenant, request_key), kept unique by reconcile

CREATE TABLE missed_attempts (
    tenant        TEXT NOT NULL,
    request_key   TEXT NOT NULL,
    call_num      TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    start_ts      TIMESTAMPTZ NOT NULL,
    end_ts        TIMESTAMPTZ NOT NULL,
    bill_s        DECIMAL(12, 3) NOT NULL,
    success       BOOLEAN NOT NULL,
    extension     TEXT
);

-- Operational tables (SQLAlchemy). A booking belongs to the number's OPEN request that existed
-- when it was made (first_call <= booked_at); reconcile drops bookings of closed requests.
CREATE TABLE missed_bookings (
    tenant       TEXT NOT NULL,
    call_num     TEXT NOT NULL,
    booked_by    TEXT NOT NULL,          -- username of the operator
    extension    TEXT,                   -- the operator's extension (click to call)
    booked_at    TIMESTAMPTZ NOT NULL,
    assigned_by  TEXT,                   -- supervisor who assigned it, NULL when self-booked
    PRIMARY KEY (tenant, call_num)
);

CREATE SEQUENCE IF NOT EXISTS missed_flush_seq START 1;
CREATE TABLE missed_flushes (
    id           BIGINT PRIMARY KEY DEFAULT nextval('missed_flush_seq'),
    tenant       TEXT NOT NULL,
    call_num     TEXT NOT NULL,
    request_key  TEXT NOT NULL,
    flushed_at   TIMESTAMPTZ NOT NULL,
    flushed_by   TEXT NOT NULL
);

-- Click-to-call dials started from pbxlens: the request is hidden until the attempt's CDR row
-- arrives or `dial_timeout_s` passes (R6b).
CREATE TABLE missed_dials (
    tenant       TEXT NOT NULL,
    call_num     TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    started_by   TEXT NOT NULL,
    extension    TEXT,
    call_uuid    TEXT
);

CREATE SEQUENCE IF NOT EXISTS missed_history_seq START 1;
CREATE TABLE missed_history (
    id           BIGINT PRIMARY KEY DEFAULT nextval('missed_history_seq'),
    tenant       TEXT NOT NULL,
    call_num     TEXT NOT NULL,
    request_key  TEXT,
    at_ts        TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,          -- username, or 'system' for reconciliation
    action       TEXT NOT NULL,          -- book | cancel | assign | unassign | flush | dial | ...
    detail       TEXT
);

CREATE TABLE missed_settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
