-- Derived facts of the billing-code, group, checktime and IVR reports, maintained by
-- pbxlens.ingest.derive like 0003's tables: a pure function of each call's own calls/call_legs
-- rows, bucketed on the call's start in PBX local time (C22), durations in whole seconds.

-- R6-R8: one row per outgoing call with a billing code (account_code), C27.
CREATE TABLE billing_calls (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    leg_branch    SMALLINT NOT NULL,
    day           DATE NOT NULL,
    hr            SMALLINT NOT NULL,
    dow           SMALLINT NOT NULL,      -- 0 = Sunday
    status        TEXT NOT NULL,          -- the call's status (R6 blocks)
    account_code  TEXT NOT NULL,          -- the billing code
    caller        TEXT,
    called        TEXT,
    account       TEXT,                   -- src_peer_name (operator resolved at report time)
    exit_cause    TEXT,                   -- exit cause of the call's last obl line
    block         TEXT NOT NULL,          -- R7/R8 block (NCC, BUSY, TRANSFER, ...)
    dur_s         INTEGER NOT NULL,       -- duration = time worked of an outgoing call (C17)
    bill_s        INTEGER NOT NULL,       -- floor(bill_secs) (C6)
    talk_s        INTEGER NOT NULL,       -- end - answer (C6); 0 when never answered
    wait_s        INTEGER NOT NULL        -- answer - start (C6); 0 when never answered
);

-- R11-R13: one row per ring-group visit (detail line `callg`).
CREATE TABLE group_visits (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    leg_branch    SMALLINT NOT NULL,
    seq           INTEGER NOT NULL,
    day           DATE NOT NULL,
    hr            SMALLINT NOT NULL,
    dow           SMALLINT NOT NULL,
    status        TEXT NOT NULL,
    gkey          TEXT NOT NULL,          -- group id, else name, else ''
    group_id      TEXT,
    group_name    TEXT,
    exit_cause    TEXT,
    answered      BOOLEAN NOT NULL,       -- answered and talk > 0 (C21)
    talk_s        INTEGER NOT NULL,       -- answered: exit - answer; else 0
    n_cfwd        INTEGER NOT NULL,       -- member legs with exit cause CFWD (C20)
    n_ufwd        INTEGER NOT NULL,       -- ... UFWD
    n_fork        INTEGER NOT NULL        -- ... FORK2MOBILE
);

-- R23/R24: one row per checktime line, per IVR line, and per call addressed to an IVR that
-- never reached one (seq 0, no menu: FAILED, errata C12).
CREATE TABLE gate_passes (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    leg_branch    SMALLINT NOT NULL,
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,          -- checktime | ivr
    day           DATE NOT NULL,
    mod           SMALLINT NOT NULL,      -- call start, minute of the local day 0-1439
    called        TEXT,                   -- the call's called number (menu of a failed IVR call)
    gkey          TEXT,                   -- checktime / IVR id, else name; NULL = not reached
    gate_id       TEXT,
    gate_name     TEXT,
    exit_cause    TEXT,
    ok            BOOLEAN NOT NULL,       -- checktime: in hours; IVR: reached the menu
    routed        BOOLEAN NOT NULL        -- IVR: the menu routed the call (exit cause NCC/OK)
);

-- Backfill a store that already holds calls (the same statements as derive.backfill_sql(12)).
INSERT INTO billing_calls
WITH c AS (
  SELECT * FROM calls
  WHERE direction = 'outgoing' AND nullif(account_code, '') IS NOT NULL
), o AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, arg_max(l.exit_cause, l.seq) AS exit_cause
  FROM c JOIN call_legs l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'obl'
  GROUP BY l.tenant, l.unique_id, l.leg_branch
)
SELECT c.tenant, c.unique_id, c.leg_branch,
  CAST(c.start_local AS DATE) AS day, CAST(hour(c.start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(c.start_local) AS SMALLINT) AS dow, c.status, c.account_code, c.caller,
  c.called, c.src_peer_name AS account, o.exit_cause,
  CASE WHEN o.exit_cause IS NULL THEN (CASE WHEN c.status = 'OK' THEN 'NCC'
         WHEN c.status IN ('?', '??') THEN '?' ELSE c.status END)
       ELSE CASE
           WHEN o.exit_cause = 'BLINDXFER' THEN 'TRANSFER'
           WHEN o.exit_cause = 'ATXFER' THEN 'TRASFERIMENTO'
           WHEN o.exit_cause = 'ANSWERED_ELSEWHERE' THEN 'ANSWERED ELSEWHERE'
           WHEN o.exit_cause = 'DECLINED' THEN 'REFUSED'
           WHEN o.exit_cause IN ('UFWD', 'CFWD2MOBILE', 'FASTXFER2MOBILE') THEN 'FORWARD'
           WHEN o.exit_cause IN ('?', '??') THEN '?'
           ELSE o.exit_cause END END AS block,
  c.duration_s AS dur_s, CAST(floor(c.bill_s) AS INTEGER) AS bill_s,
  CASE WHEN c.answer_ts IS NULL THEN 0
       ELSE coalesce(CAST(floor(epoch_us(c.end_ts) / 1000000) - floor(epoch_us(c.answer_ts) / 1000000) AS INTEGER), 0) END AS talk_s,
  CASE WHEN c.answer_ts IS NULL THEN 0
       ELSE coalesce(CAST(floor(epoch_us(c.answer_ts) / 1000000) - floor(epoch_us(c.start_ts) / 1000000) AS INTEGER), 0) END AS wait_s
FROM c LEFT JOIN o ON o.tenant = c.tenant AND o.unique_id = c.unique_id
  AND o.leg_branch = c.leg_branch
ORDER BY day, c.unique_id, c.leg_branch;

INSERT INTO group_visits
WITH gc AS (
  -- the calls that visit a group (a small share): only their lines are joined and windowed
  SELECT DISTINCT c.tenant, c.unique_id, c.leg_branch, c.start_local, c.status
  FROM calls c
  JOIN call_legs l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'callg'
), l AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, l.dest_type, l.dest_id, l.dest_name,
    l.enter_ts, l.answer_ts, l.exit_ts, l.exit_cause, gc.start_local, gc.status
  FROM gc
  JOIN call_legs l ON l.tenant = gc.tenant AND l.unique_id = gc.unique_id
    AND l.leg_branch = gc.leg_branch
  WHERE l.dest_type IN ('callg', 'queue', 'ivr', 'local_exten', 'obl')
), k AS (
  -- container lines (group, queue, IVR) with the next one's seq: a member line belongs to
  -- the container before it whose next container comes after it
  SELECT *, lead(seq, 1, 2147483647) OVER (PARTITION BY tenant, unique_id, leg_branch
      ORDER BY seq) AS next_k
  FROM l WHERE dest_type IN ('callg', 'queue', 'ivr')
), m AS (
  SELECT w.tenant, w.unique_id, w.leg_branch, g.seq AS prev_seq,
    count(*) FILTER (WHERE w.exit_cause = 'CFWD') AS n_cfwd,
    count(*) FILTER (WHERE w.exit_cause = 'UFWD') AS n_ufwd,
    count(*) FILTER (WHERE w.exit_cause = 'FORK2MOBILE') AS n_fork
  FROM l w JOIN k g ON g.tenant = w.tenant AND g.unique_id = w.unique_id
    AND g.leg_branch = w.leg_branch AND g.seq < w.seq AND w.seq < g.next_k
  WHERE g.dest_type = 'callg' AND w.dest_type IN ('local_exten', 'obl')
    AND w.exit_cause IN ('CFWD', 'UFWD', 'FORK2MOBILE')
    AND w.enter_ts >= g.enter_ts AND w.enter_ts <= g.exit_ts
  GROUP BY w.tenant, w.unique_id, w.leg_branch, g.seq
), g AS (
  SELECT l.*, coalesce(CAST(floor(epoch_us(l.exit_ts) / 1000000) - floor(epoch_us(l.answer_ts) / 1000000) AS INTEGER), 0) AS talk
  FROM l WHERE l.dest_type = 'callg'
)
SELECT g.tenant, g.unique_id, g.leg_branch, g.seq,
  CAST(g.start_local AS DATE) AS day, CAST(hour(g.start_local) AS SMALLINT) AS hr,
  CAST(dayofweek(g.start_local) AS SMALLINT) AS dow, g.status,
  coalesce(nullif(g.dest_id, ''), nullif(g.dest_name, ''), '') AS gkey,
  g.dest_id AS group_id, g.dest_name AS group_name, g.exit_cause,
  g.answer_ts IS NOT NULL AND g.talk > 0 AS answered,
  CASE WHEN g.answer_ts IS NOT NULL AND g.talk > 0 THEN g.talk ELSE 0 END AS talk_s,
  CAST(coalesce(m.n_cfwd, 0) AS INTEGER) AS n_cfwd,
  CAST(coalesce(m.n_ufwd, 0) AS INTEGER) AS n_ufwd,
  CAST(coalesce(m.n_fork, 0) AS INTEGER) AS n_fork
FROM g LEFT JOIN m ON m.tenant = g.tenant AND m.unique_id = g.unique_id
  AND m.leg_branch = g.leg_branch AND m.prev_seq = g.seq
ORDER BY day, g.unique_id, g.leg_branch, g.seq;

INSERT INTO gate_passes
WITH c AS (
  SELECT * FROM calls
), l AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, l.seq, l.dest_type AS kind, l.dest_id,
    l.dest_name, l.exit_cause, l.checktime_in_hours, c.start_local, c.called
  FROM c JOIN call_legs l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type IN ('checktime', 'ivr')
), p AS (
  SELECT tenant, unique_id, leg_branch, seq, kind, start_local, called,
    coalesce(nullif(dest_id, ''), nullif(dest_name, ''), '') AS gkey, dest_id AS gate_id,
    dest_name AS gate_name, exit_cause,
    CASE WHEN kind = 'ivr' THEN true
         ELSE coalesce(checktime_in_hours, exit_cause IS DISTINCT FROM 'CLOSED') END AS ok,
    kind = 'ivr' AND exit_cause IN ('NCC', 'OK') AS routed
  FROM l
  UNION ALL
  SELECT c.tenant, c.unique_id, c.leg_branch, 0, 'ivr', c.start_local, c.called, NULL, NULL,
    NULL, NULL, false, false
  FROM c
  WHERE c.destination_type = 'ivr' AND NOT EXISTS (
    SELECT 1 FROM l WHERE l.tenant = c.tenant AND l.unique_id = c.unique_id
      AND l.leg_branch = c.leg_branch AND l.kind = 'ivr')
)
SELECT tenant, unique_id, leg_branch, seq, kind,
  CAST(start_local AS DATE) AS day,
  CAST(hour(start_local) * 60 + minute(start_local) AS SMALLINT) AS mod, called, gkey, gate_id,
  gate_name, exit_cause, ok, routed
FROM p
ORDER BY day, unique_id, leg_branch, seq;
