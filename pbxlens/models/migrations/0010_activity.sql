-- Agent activity (issue 6 part 3): queue-member events turned into interval facts.
-- Filled by pbxlens.ingest.activity from pbx_events (whatever path stored them: the events
-- webhook or an event-log file), inside the transaction that stored the events; talk pieces
-- from agent_legs inside each CDR batch's transaction. All seconds are whole seconds: event
-- instants are truncated to the second (CDR durations are whole seconds too).

-- One row per pbx.queuemember.* event (key as pbx_events). `member` is the member's SIP
-- account, else its extension: the unit whose state the PBX tracks.
CREATE TABLE agent_events (
    tenant         TEXT NOT NULL,
    pbx_serial     TEXT NOT NULL,
    event_key      TEXT NOT NULL,
    event_id       BIGINT,
    ts             TIMESTAMPTZ NOT NULL,
    action         TEXT NOT NULL,          -- added | removed | pause | unpause
    member         TEXT NOT NULL,
    member_account TEXT,
    member_exten   TEXT,
    queue_id       TEXT,                   -- NULL with queue_name NULL: every queue (pause)
    queue_name     TEXT,
    reason         TEXT,                   -- pause reason, when the PBX sends one
    batch_id       BIGINT NOT NULL,
    PRIMARY KEY (pbx_serial, event_key)
);

-- Logged-in and paused intervals per member and queue (pauses already clipped to the
-- logged-in intervals). end_ts NULL = still open at the last event (counted up to "now" at
-- report time).
CREATE TABLE agent_intervals (
    tenant         TEXT NOT NULL,
    member         TEXT NOT NULL,
    member_account TEXT,
    member_exten   TEXT,
    qkey           TEXT NOT NULL,          -- queue id, else name
    queue_id       TEXT,
    queue_name     TEXT,
    kind           TEXT NOT NULL,          -- logged | paused
    reason         TEXT NOT NULL,          -- '' for logged and for pauses without a reason
    start_ts       TIMESTAMPTZ NOT NULL,
    end_ts         TIMESTAMPTZ
);

-- The closed intervals cut at every PBX-local hour border (DST-correct): one row per piece.
CREATE TABLE agent_activity (
    tenant         TEXT NOT NULL,
    member         TEXT NOT NULL,
    member_account TEXT,
    member_exten   TEXT,
    qkey           TEXT NOT NULL,
    queue_id       TEXT,
    queue_name     TEXT,
    kind           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    day            DATE NOT NULL,          -- PBX local day of the piece
    hr             SMALLINT NOT NULL,      -- PBX local hour 0-23 (hour 2 of the autumn
                                           -- change day holds both of its real hours)
    secs           INTEGER NOT NULL,
    starts         INTEGER NOT NULL        -- 1 on the piece where the interval starts
);

-- Talk of answered queue legs (agent_legs) cut at every PBX-local hour border.
CREATE TABLE agent_talk (
    tenant         TEXT NOT NULL,
    unique_id      TEXT NOT NULL,
    leg_branch     SMALLINT NOT NULL,
    seq            INTEGER NOT NULL,
    extension      TEXT,
    account        TEXT,
    qkey           TEXT NOT NULL,
    queue_id       TEXT,
    queue_name     TEXT,
    day            DATE NOT NULL,
    hr             SMALLINT NOT NULL,
    secs           INTEGER NOT NULL,
    starts         INTEGER NOT NULL        -- 1 on the piece where the talk starts (= 1 call)
);
