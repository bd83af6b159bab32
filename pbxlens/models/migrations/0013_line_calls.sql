-- Derived (coincidences): one row per call that used a line, with its interval ends
-- as epoch seconds, so that the coincidence reports sweep ONE narrow table with no join to
-- call_legs and no time-zone arithmetic. Maintained by pbxlens.ingest.derive like call_facts;
-- a pure function of the call's own calls/call_legs rows (channel limits stay in the directory).
CREATE TABLE line_calls (
    tenant       TEXT NOT NULL,
    unique_id    TEXT NOT NULL,
    leg_branch   SMALLINT NOT NULL,
    day          DATE NOT NULL,       -- call start, PBX local day
    direction    TEXT NOT NULL,
    gateway      TEXT NOT NULL,       -- calls.gateway_name: the line or termination used
    out_config   TEXT,                -- outgoing: the outbound configuration (last obl line's
                                      -- dest_id, else the gateway); other directions NULL
    start_s      BIGINT NOT NULL,     -- epoch seconds (floored)
    answer_s     BIGINT,              -- answer, else channel up; NULL when never answered
    end_s        BIGINT NOT NULL      -- end, else start + duration
);

INSERT INTO line_calls
WITH c AS (
  SELECT * FROM calls WHERE nullif(gateway_name, '') IS NOT NULL
), o AS (
  SELECT l.tenant, l.unique_id, l.leg_branch, arg_max(nullif(l.dest_id, ''), l.seq) AS cfg
  FROM c JOIN call_legs l ON l.tenant = c.tenant AND l.unique_id = c.unique_id
    AND l.leg_branch = c.leg_branch
  WHERE l.dest_type = 'obl' AND c.direction = 'outgoing'
  GROUP BY l.tenant, l.unique_id, l.leg_branch
)
SELECT c.tenant, c.unique_id, c.leg_branch, CAST(c.start_local AS DATE) AS day, c.direction,
  c.gateway_name AS gateway,
  CASE WHEN c.direction = 'outgoing' THEN coalesce(o.cfg, c.gateway_name) END AS out_config,
  CAST(floor(epoch(c.start_ts)) AS BIGINT) AS start_s,
  CAST(floor(epoch(coalesce(c.answer_ts, c.channel_up_ts))) AS BIGINT) AS answer_s,
  CAST(floor(epoch(coalesce(c.end_ts, c.start_ts + to_seconds(c.duration_s)))) AS BIGINT)
    AS end_s
FROM c LEFT JOIN o ON o.tenant = c.tenant AND o.unique_id = c.unique_id
  AND o.leg_branch = c.leg_branch
ORDER BY day, start_s;
