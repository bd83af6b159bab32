-- Derived facts (design.md "derived" stage), maintained by pbxlens.ingest.derive.refresh inside
-- each CDR batch's transaction. Reports of the queue and operator families read these narrow
-- tables filtered by day, with no join to call_legs. Durations are whole seconds (spec §0.9,
-- C17, C19); day/hr/dow bucket the call's start in PBX local time (C22).
-- Rows are a function of the call's own calls/call_legs rows only (never of the directory or
-- of settings): queue names, operator of an originated call and KPI thresholds are resolved at
-- report time.

-- One row per call (the dashboard's grain).
CREATE TABLE call_facts (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    leg_branch    SMALLINT NOT NULL,
    day           DATE NOT NULL,          -- call start, PBX local day
    hr            SMALLINT NOT NULL,      -- call start, PBX local hour 0-23
    dow           SMALLINT NOT NULL,      -- call start, weekday 0 = Sunday
    direction     TEXT NOT NULL,
    status        TEXT NOT NULL,
    caller        TEXT,
    called        TEXT,
    account_code  TEXT,
    gateway_name  TEXT,
    dur_s         INTEGER NOT NULL,       -- the CDR's duration
    wait_s        INTEGER NOT NULL,       -- incoming: (answer, else channel up) - start, else
                                          -- duration (C5); other directions 0
    talk_s        INTEGER NOT NULL        -- incoming: floor(bill_secs) (C5); other directions 0
);

-- One row per queue visit (CDR detail line of type `queue`).
CREATE TABLE queue_visits (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    leg_branch    SMALLINT NOT NULL,
    seq           INTEGER NOT NULL,       -- the queue line's seq in call_legs
    day           DATE NOT NULL,          -- call start, PBX local day
    hr            SMALLINT NOT NULL,      -- call start, PBX local hour 0-23
    dow           SMALLINT NOT NULL,      -- call start, weekday 0 = Sunday
    status        TEXT NOT NULL,          -- the call's status
    qkey          TEXT NOT NULL,          -- queue id, else name, else '' (empty queue, C23)
    queue_id      TEXT,
    queue_name    TEXT,                   -- the name the CDR wrote (directory name at report time)
    empty_queue   BOOLEAN NOT NULL,       -- neither queue id nor name
    exit_cause    TEXT,                   -- normalized PBX code
    block         TEXT NOT NULL,          -- report block (TRASFERIMENTO, QUEUE_JOINEMPTY, ? ...)
    answered      BOOLEAN NOT NULL,
    account       TEXT,                   -- SIP account that answered (answered_by)
    queuing_s     INTEGER NOT NULL,       -- enqueue - enter
    resp_s        INTEGER NOT NULL,       -- answered: answer - enqueue; else 0
    talk_s        INTEGER NOT NULL,       -- answered: exit - answer; else 0
    tot_s         INTEGER NOT NULL,       -- exit - enter
    dur_s         INTEGER NOT NULL,       -- answered: exit - enter; else 0
    wait_s        INTEGER NOT NULL,       -- unanswered: exit - enter; else 0
    asa_s         INTEGER NOT NULL        -- answered: answer - enter; else 0
);

-- One row per operator leg: received (`local_exten` detail line, seq = its seq) or originated
-- candidate (kind 'orig', seq 0: an outgoing/internal call with a src_peer_name; the report
-- keeps it when src_peer_name is an operator account of the directory).
CREATE TABLE agent_legs (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    leg_branch    SMALLINT NOT NULL,
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,          -- recv | orig
    day           DATE NOT NULL,
    hr            SMALLINT NOT NULL,
    dow           SMALLINT NOT NULL,
    status        TEXT NOT NULL,          -- the call's status
    direction     TEXT NOT NULL,          -- the call's direction
    caller        TEXT,                   -- the call's caller (source filter)
    called        TEXT,                   -- the call's called number (destination filter)
    extension     TEXT,                   -- recv: the operator extension (dest_id); orig: NULL
    op_name       TEXT,                   -- recv: dest_name
    account       TEXT,                   -- recv: answered_by when answered; orig: src_peer_name
    q_seq         INTEGER,                -- seq of the queue visit the leg belongs to, if any
    qkey          TEXT,                   -- that visit's queue key ('' = empty queue)
    queue_id      TEXT,
    queue_name    TEXT,
    exit_cause    TEXT,                   -- recv: the leg's exit cause; orig: the call status
    block         TEXT NOT NULL,          -- report block (TIMEOUT, REFUSED, FORWARD, ANSWER ...)
    answered      BOOLEAN NOT NULL,
    dir_block     TEXT,                   -- IN | INT | OUT_OK | OUT_KO | NULL (R15)
    ring_s        INTEGER NOT NULL,       -- (answer, else exit) - enter (C19)
    resp_s        INTEGER NOT NULL,       -- answered: answer - arrival (C19); else 0
    talk_s        INTEGER NOT NULL,       -- answered: exit - answer; else 0
    worked_s      INTEGER NOT NULL        -- C17
);

-- Backfill a store that already holds calls (the same statements as derive.backfill_sql()).
INSERT INTO call_facts
SELECT c.tenant, c.unique_id, c.leg_branch,
  CAST(c.start_local AS DATE) AS day, CAST(hour(c.start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(c.start_local) AS SMALLINT) AS dow, c.direction, c.status, c.caller, c.called,
  c.account_code, c.gateway_name, c.duration_s AS dur_s,
  CASE WHEN c.direction = 'incoming' THEN coalesce(
    CAST(floor(epoch_us(coalesce(c.answer_ts, c.channel_up_ts)) / 1000000) - floor(epoch_us(c.start_ts) / 1000000) AS INTEGER), c.duration_s)
    ELSE 0 END AS wait_s,
  CASE WHEN c.direction = 'incoming' THEN CAST(floor(c.bill_s) AS INTEGER) ELSE 0 END AS talk_s
FROM calls c
ORDER BY day, unique_id, leg_branch;

INSERT INTO queue_visits
WITH v AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, c.start_local, c.status,
    l.dest_id, l.dest_name, l.exit_cause, CASE WHEN l.exit_cause = 'ATXFER' THEN 'TRASFERIMENTO'
           WHEN l.exit_cause = 'JOINEMPTY' THEN 'QUEUE_JOINEMPTY'
           WHEN l.exit_cause = 'ANSWERED_ELSEWHERE' THEN 'ANSWERED ELSEWHERE'
           WHEN l.exit_cause = 'CANCELED_NOWAIT' THEN 'CANCELED NOWAIT'
           WHEN l.exit_cause IS NULL OR l.exit_cause IN ('?', '??') THEN '?'
           ELSE l.exit_cause END AS block,
    nullif(l.answered_by, '') AS account,
    l.enter_ts, coalesce(l.enqueue_ts, l.enter_ts) AS enq_ts, l.answer_ts, l.exit_ts
  FROM calls c
  JOIN call_legs l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'queue'
), a AS (
  SELECT *, block IN ('NCC-AGENT', 'NCC-CALLER', 'NCC', 'ANSWER', 'TRANSFER', 'TRASFERIMENTO') AS ans, coalesce(CAST(floor(epoch_us(exit_ts) / 1000000) - floor(epoch_us(enter_ts) / 1000000) AS INTEGER), 0) AS tot
  FROM v
)
SELECT tenant, unique_id, leg_branch, seq,
  CAST(start_local AS DATE) AS day, CAST(hour(start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(start_local) AS SMALLINT) AS dow, status,
  coalesce(nullif(dest_id, ''), nullif(dest_name, ''), '') AS qkey,
  dest_id AS queue_id, dest_name AS queue_name,
  coalesce(nullif(dest_id, ''), nullif(dest_name, '')) IS NULL AS empty_queue,
  exit_cause, block, ans AS answered, account,
  coalesce(CAST(floor(epoch_us(enq_ts) / 1000000) - floor(epoch_us(enter_ts) / 1000000) AS INTEGER), 0) AS queuing_s,
  CASE WHEN ans THEN coalesce(CAST(floor(epoch_us(answer_ts) / 1000000) - floor(epoch_us(enq_ts) / 1000000) AS INTEGER), 0) ELSE 0 END AS resp_s,
  CASE WHEN ans THEN coalesce(CAST(floor(epoch_us(exit_ts) / 1000000) - floor(epoch_us(answer_ts) / 1000000) AS INTEGER), 0) ELSE 0 END AS talk_s,
  tot AS tot_s,
  CASE WHEN ans THEN tot ELSE 0 END AS dur_s,
  CASE WHEN ans THEN 0 ELSE tot END AS wait_s,
  CASE WHEN ans THEN coalesce(CAST(floor(epoch_us(answer_ts) / 1000000) - floor(epoch_us(enter_ts) / 1000000) AS INTEGER), 0) ELSE 0 END AS asa_s
FROM a
ORDER BY day, unique_id, leg_branch, seq;

INSERT INTO agent_legs
WITH c AS (
  SELECT * FROM calls
), l AS (
  -- the path lines alone (the call's fields are joined after the visit lookup: narrower rows)
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, l.dest_type, l.dest_id, l.dest_name,
    l.source_num, l.enter_ts, l.answer_ts, l.exit_ts, l.exit_cause, l.answered_by
  FROM call_legs l
  WHERE l.dest_type IN ('queue', 'local_exten')
), q AS (
  SELECT *, lead(seq, 1, 2147483647) OVER (PARTITION BY tenant, unique_id, leg_branch
      ORDER BY seq) AS next_q
  FROM l WHERE dest_type = 'queue'
), a AS (
  -- the nearest earlier queue line of the same call: the one before the leg whose next queue
  -- line (if any) comes after it (a hash join on the call; the window runs on queue lines only)
  SELECT w.*, q.seq AS q_seq0, q.dest_id AS q_id0, q.dest_name AS q_name0,
    q.enter_ts AS q_enter0,
    coalesce(w.enter_ts >= q.enter_ts AND w.enter_ts <= q.exit_ts
      AND w.source_num IS NOT DISTINCT FROM q.source_num, false) AS in_visit
  FROM (SELECT * FROM l WHERE dest_type = 'local_exten') w
  LEFT JOIN q ON q.tenant = w.tenant AND q.unique_id = w.unique_id
    AND q.leg_branch = w.leg_branch AND q.seq < w.seq AND w.seq < q.next_q
), r AS (
  SELECT a.* EXCLUDE (q_seq0, q_id0, q_name0, q_enter0, in_visit),
    CASE WHEN in_visit THEN q_seq0 END AS q_seq, CASE WHEN in_visit THEN q_id0 END AS q_id,
    CASE WHEN in_visit THEN q_name0 END AS q_name,
    CASE WHEN in_visit THEN q_enter0 END AS q_enter
  FROM a
), rb AS (
  SELECT r.*, CASE
           WHEN r.exit_cause = 'BLINDXFER' THEN 'TRANSFER'
           WHEN r.exit_cause = 'ATXFER' THEN 'TRASFERIMENTO'
           WHEN r.exit_cause = 'ANSWERED_ELSEWHERE' THEN 'ANSWERED ELSEWHERE'
           WHEN r.exit_cause = 'CANCELED_NOWAIT' THEN 'CANCELED NOWAIT'
           WHEN r.exit_cause = 'NOANSWER' AND r.q_seq IS NOT NULL THEN 'TIMEOUT'
           WHEN r.exit_cause = 'DECLINED' THEN 'REFUSED'
           WHEN r.exit_cause IN ('UFWD', 'CFWD2MOBILE', 'FASTXFER2MOBILE') THEN 'FORWARD'
           WHEN r.exit_cause IS NULL OR r.exit_cause IN ('?', '??') THEN '?'
           ELSE r.exit_cause END AS block FROM r
), ra AS (
  SELECT rb.*, block IN ('NCC-AGENT', 'NCC-CALLER', 'NCC', 'ANSWER', 'TRANSFER', 'TRASFERIMENTO') AS ans FROM rb
), legs AS (
  SELECT r.tenant, r.unique_id, r.leg_branch, r.seq, 'recv' AS kind, c.start_local, c.status,
    c.direction, c.caller, c.called, r.dest_id AS extension, r.dest_name AS op_name,
    CASE WHEN r.ans THEN nullif(r.answered_by, '') END AS account,
    r.q_seq, CASE WHEN r.q_seq IS NOT NULL THEN
      coalesce(nullif(r.q_id, ''), nullif(r.q_name, ''), '') END AS qkey,
    r.q_id AS queue_id, r.q_name AS queue_name, r.exit_cause, r.block,
    r.ans AS answered,
    coalesce(CAST(floor(epoch_us(coalesce(r.answer_ts, r.exit_ts)) / 1000000) - floor(epoch_us(r.enter_ts) / 1000000) AS INTEGER), 0) AS ring_s,
    CASE WHEN r.ans THEN
      coalesce(CAST(floor(epoch_us(r.answer_ts) / 1000000) - floor(epoch_us(coalesce(r.q_enter, r.enter_ts)) / 1000000) AS INTEGER), 0) ELSE 0 END AS resp_s,
    CASE WHEN r.ans THEN coalesce(CAST(floor(epoch_us(r.exit_ts) / 1000000) - floor(epoch_us(r.answer_ts) / 1000000) AS INTEGER), 0)
      ELSE 0 END AS talk_s,
    CASE WHEN r.ans THEN coalesce(CAST(floor(epoch_us(r.exit_ts) / 1000000) - floor(epoch_us(r.answer_ts) / 1000000) AS INTEGER), 0)
         WHEN r.block IN ('ANSWERED ELSEWHERE', 'REFUSED', 'TIMEOUT') THEN 0
         ELSE coalesce(CAST(floor(epoch_us(r.exit_ts) / 1000000) - floor(epoch_us(r.enter_ts) / 1000000) AS INTEGER), 0) END AS worked_s
  FROM ra r
  JOIN c ON c.tenant = r.tenant AND c.unique_id = r.unique_id AND c.leg_branch = r.leg_branch
  UNION ALL
  SELECT c.tenant, c.unique_id, c.leg_branch, 0 AS seq, 'orig' AS kind, c.start_local,
    c.status, c.direction, c.caller, c.called, NULL AS extension, NULL AS op_name,
    c.src_peer_name AS account, NULL AS q_seq, NULL AS qkey, NULL AS queue_id,
    NULL AS queue_name, c.status AS exit_cause, CASE WHEN c.status = 'OK' THEN 'ANSWER' WHEN c.status IN ('?', '??') THEN '?'
           ELSE c.status END AS block,
    c.status = 'OK' AS answered,
    coalesce(CAST(floor(epoch_us(coalesce(c.answer_ts, c.end_ts)) / 1000000) - floor(epoch_us(c.start_ts) / 1000000) AS INTEGER), 0) AS ring_s,
    CASE WHEN c.status = 'OK' THEN coalesce(CAST(floor(epoch_us(c.answer_ts) / 1000000) - floor(epoch_us(c.start_ts) / 1000000) AS INTEGER), 0) ELSE 0 END
      AS resp_s,
    CASE WHEN c.status = 'OK' THEN coalesce(CAST(floor(epoch_us(c.end_ts) / 1000000) - floor(epoch_us(c.answer_ts) / 1000000) AS INTEGER), 0) ELSE 0 END
      AS talk_s,
    c.duration_s AS worked_s
  FROM c
  WHERE c.src_peer_name IS NOT NULL AND c.direction IN ('outgoing', 'internal')
)
SELECT tenant, unique_id, leg_branch, seq, kind,
  CAST(start_local AS DATE) AS day, CAST(hour(start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(start_local) AS SMALLINT) AS dow, status, direction, caller, called,
  extension, op_name, account, q_seq, qkey, queue_id, queue_name, exit_cause, block, answered,
  CASE
    WHEN kind = 'recv' AND answered AND direction = 'incoming' THEN 'IN'
    WHEN kind = 'recv' AND answered AND direction = 'internal' THEN 'INT'
    WHEN kind = 'orig' AND direction = 'outgoing' AND status = 'OK' THEN 'OUT_OK'
    WHEN kind = 'orig' AND direction = 'outgoing' THEN 'OUT_KO' END AS dir_block,
  ring_s, resp_s, talk_s, worked_s
FROM legs
ORDER BY day, unique_id, leg_branch, seq;
