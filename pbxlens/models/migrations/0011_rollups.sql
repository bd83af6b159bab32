-- Hourly rollups (issue 11, pbxlens.scale.rollups): the derived tables summed per hour and per
-- every column the reports group or filter on (queue, operator, account, line ...). Kept by
-- rollups.refresh after each batch for the days the batch touched; a report query is answered
-- from a rollup only when every column it reads is here (else it reads the derived table).
-- Measures hold sums; n counts the rows summed. Filled on the first refresh (the flags of
-- queue_visits_hourly depend on the settings, which a SQL migration cannot read).

CREATE TABLE call_facts_hourly (
    tenant TEXT NOT NULL, day DATE NOT NULL, hr SMALLINT NOT NULL, dow SMALLINT NOT NULL,
    direction TEXT NOT NULL, status TEXT NOT NULL, account_code TEXT, gateway_name TEXT,
    n BIGINT NOT NULL, dur_s BIGINT, wait_s BIGINT, talk_s BIGINT
);

CREATE TABLE queue_visits_hourly (
    tenant TEXT NOT NULL, day DATE NOT NULL, hr SMALLINT NOT NULL, dow SMALLINT NOT NULL,
    status TEXT NOT NULL, qkey TEXT NOT NULL, queue_id TEXT, queue_name TEXT,
    empty_queue BOOLEAN NOT NULL, exit_cause TEXT, block TEXT NOT NULL, answered BOOLEAN NOT NULL,
    sl_fast BOOLEAN,    -- asa_s <= service_level_s (rollup_meta says which value)
    sa_long BOOLEAN,    -- wait_s >= short_abandon_s
    n BIGINT NOT NULL, queuing_s BIGINT, resp_s BIGINT, talk_s BIGINT, tot_s BIGINT, dur_s BIGINT,
    wait_s BIGINT, asa_s BIGINT
);

CREATE TABLE agent_legs_hourly (
    tenant TEXT NOT NULL, day DATE NOT NULL, hr SMALLINT NOT NULL, dow SMALLINT NOT NULL,
    kind TEXT NOT NULL, status TEXT NOT NULL, direction TEXT NOT NULL, extension TEXT,
    op_name TEXT, account TEXT, qkey TEXT, queue_id TEXT, queue_name TEXT, exit_cause TEXT,
    block TEXT NOT NULL, answered BOOLEAN NOT NULL, dir_block TEXT,
    n BIGINT NOT NULL, ring_s BIGINT, resp_s BIGINT, talk_s BIGINT, worked_s BIGINT
);

-- agent_legs per operator only (no call status, direction, queue): the operator reports
-- without those filters read this smaller one.
CREATE TABLE agent_legs_op_hourly (
    tenant TEXT NOT NULL, day DATE NOT NULL, hr SMALLINT NOT NULL, dow SMALLINT NOT NULL,
    kind TEXT NOT NULL, extension TEXT, op_name TEXT, account TEXT, exit_cause TEXT,
    block TEXT NOT NULL, answered BOOLEAN NOT NULL, dir_block TEXT,
    n BIGINT NOT NULL, ring_s BIGINT, resp_s BIGINT, talk_s BIGINT, worked_s BIGINT
);

-- One row per built rollup: the thresholds its flags were computed with.
CREATE TABLE rollup_meta (
    name TEXT PRIMARY KEY, service_level_s INTEGER, short_abandon_s INTEGER,
    built_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
