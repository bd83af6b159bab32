-- Kalliope Call Center CDR (issue 6): queue calls and their operator legs, loaded by
-- pbxlens.ingest.kalliope_callcenter. Both tables hold loaded facts plus the report-ready
-- columns computed from the row itself at load time (seconds of spec §0.9/C7/C17/C19, the
-- end-time buckets of C22 in PBX local time), so the cc.* reports read one table by day.
-- Names and directory-dependent labels are resolved at report time, as for the CDR.

-- One row per call and queue visit. Natural key (tenant, unique_id, qkey, enter_ts).
CREATE TABLE queue_calls (
    tenant            TEXT NOT NULL,
    unique_id         TEXT NOT NULL,
    qkey              TEXT NOT NULL,       -- queue id, else name, else '' (empty queue, C23)
    enter_ts          TIMESTAMPTZ NOT NULL,
    queue_id          TEXT,
    queue_name        TEXT,
    direction         TEXT NOT NULL,       -- incoming | local (C26)
    status            TEXT,                -- the call's CDR status
    caller            TEXT,
    caller_name       TEXT,
    called            TEXT,
    welcome_end_ts    TIMESTAMPTZ,
    enqueue_ts        TIMESTAMPTZ,
    answer_ts         TIMESTAMPTZ,
    exit_ts           TIMESTAMPTZ NOT NULL,
    exit_cause        TEXT,                -- normalized outcome (vocabulary, open set)
    exit_cause_raw    TEXT,
    block             TEXT NOT NULL,       -- report block: NCC, TRASFERIMENTO, CANCELED NOWAIT ...
    answered          BOOLEAN NOT NULL,
    operator_exten    TEXT,
    operator_name     TEXT,
    operator_account  TEXT,
    account_code      TEXT,
    work_code         TEXT,
    day               DATE NOT NULL,       -- exit (the CC CDR's end time), PBX local day (C22)
    hr                SMALLINT NOT NULL,
    dow               SMALLINT NOT NULL,   -- 0 = Sunday
    welcome_s         INTEGER NOT NULL,    -- (welcome end, else enqueue, else exit) - enter
    queuing_s         INTEGER NOT NULL,    -- enqueue - welcome end (accodamento)
    queue_wait_s      INTEGER NOT NULL,    -- (answer, else exit) - (enqueue, else welcome end)
    hold_s            INTEGER NOT NULL,    -- (answer, else exit) - enter = the three above
    resp_s            INTEGER NOT NULL,    -- answered: answer - (enqueue, else enter)
    talk_s            INTEGER NOT NULL,    -- answered: exit - answer
    tot_s             INTEGER NOT NULL,    -- exit - enter
    dur_s             INTEGER NOT NULL,    -- answered: exit - enter
    wait_s            INTEGER NOT NULL,    -- unanswered: exit - enter
    n_events          INTEGER NOT NULL,
    content_hash      UBIGINT NOT NULL,
    events_hash       UBIGINT,
    batch_id          BIGINT NOT NULL,
    extra             JSON
);

-- One row per presentation of a queue call to an operator account (CC operator events).
-- Kept apart from agent_legs (CDR-derived, rebuilt from calls/call_legs by ingest/derive.py):
-- see docs/decisions.md "Call Center CDR (issue 6)"; the view all_agent_legs unites both.
CREATE TABLE cc_agent_legs (
    tenant          TEXT NOT NULL,
    unique_id       TEXT NOT NULL,
    qkey            TEXT NOT NULL,         -- the queue call's key
    q_enter_ts      TIMESTAMPTZ NOT NULL,  -- the queue call's enter_ts
    seq             INTEGER NOT NULL,      -- order within the queue call (export order)
    day             DATE NOT NULL,         -- the queue call's buckets (end time, C22)
    hr              SMALLINT NOT NULL,
    dow             SMALLINT NOT NULL,
    direction       TEXT NOT NULL,
    status          TEXT,
    caller          TEXT,
    called          TEXT,
    queue_id        TEXT,
    queue_name      TEXT,
    extension       TEXT,                  -- operator extension
    op_name         TEXT,
    account         TEXT,                  -- SIP account presented to
    ring_ts         TIMESTAMPTZ,
    answer_ts       TIMESTAMPTZ,
    end_ts          TIMESTAMPTZ,
    exit_cause      TEXT,                  -- normalized outcome
    exit_cause_raw  TEXT,
    block           TEXT NOT NULL,         -- NCC-AGENT, ANSWERED ELSEWHERE, TIMEOUT ...
    answered        BOOLEAN NOT NULL,
    ring_s          INTEGER NOT NULL,      -- (answer, else end) - ring start (C19)
    resp_s          INTEGER NOT NULL,      -- answered: answer - queue entry (C19)
    talk_s          INTEGER NOT NULL,      -- answered: end - answer
    worked_s        INTEGER NOT NULL,      -- C17
    batch_id        BIGINT NOT NULL
);

-- Every received operator leg, whichever export it came from (source 'cdr' | 'cc'); the CDR's
-- originated candidates (kind 'orig') need the directory to become legs (reports/operator.py).
CREATE VIEW all_agent_legs AS
SELECT 'cdr' AS source, tenant, unique_id, day, hr, dow, direction, status, extension,
  account, qkey, queue_id, queue_name, exit_cause, block, answered, ring_s, resp_s, talk_s,
  worked_s
FROM agent_legs WHERE kind = 'recv'
UNION ALL
SELECT 'cc' AS source, tenant, unique_id, day, hr, dow, direction, status, extension,
  account, qkey, queue_id, queue_name, exit_cause, block, answered, ring_s, resp_s, talk_s,
  worked_s
FROM cc_agent_legs;
