-- Coincidence day summaries: the 1-second concurrency sweep of the coincidence reports, kept
-- per line, PBX-local day and interval definition, so that a report over whole lines adds up
-- days instead of sweeping every call of the range (pbxlens.reports.coincidence_days).
-- `kind` is the line key of the report (gateway: cdr.coincidences, every direction;
-- out_config: cdr.coincidences_out, outgoing calls only); `from_start` the interval
-- definition ([start, end) instead of [answer, end)); line chr(31) || '*' = all the tenant's
-- lines at once. Quarter hours (b) are elapsed time from the day's local midnight, so a DST
-- spring day has 92 and an autumn day 100. Only buckets with a call in them are stored.
CREATE TABLE coincidence_day_buckets (
    tenant      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    from_start  BOOLEAN NOT NULL,
    line        TEXT NOT NULL,
    day         DATE NOT NULL,
    b           SMALLINT NOT NULL,   -- quarter hour of the day
    peak        INTEGER NOT NULL,    -- max concurrency in the quarter hour
    peak_t      BIGINT NOT NULL,     -- epoch second the peak is first reached
    level_s     BIGINT NOT NULL,     -- channel-seconds
    starts      INTEGER NOT NULL,    -- intervals starting in the quarter hour
    carried     INTEGER NOT NULL     -- b = 0: intervals already held at local midnight
);

-- Seconds of the day spent at each concurrency level > 0 (the "≥ k" columns).
CREATE TABLE coincidence_day_levels (
    tenant      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    from_start  BOOLEAN NOT NULL,
    line        TEXT NOT NULL,
    day         DATE NOT NULL,
    level       INTEGER NOT NULL,
    secs        BIGINT NOT NULL
);

-- One row once the summaries hold every call (with the time zone their days were cut in); a
-- store upgraded with calls in it gets it from its first rebuild (the reports sweep until then).
CREATE TABLE coincidence_day_meta (
    timezone    TEXT NOT NULL,
    built_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
INSERT INTO coincidence_day_meta (timezone)
SELECT current_setting('TimeZone') WHERE NOT EXISTS (SELECT 1 FROM line_calls);

-- Per line and day: the peak, when it is first reached and the channel-seconds.
CREATE VIEW coincidence_days AS
SELECT tenant, kind, from_start, line, day, max(peak) AS peak,
  arg_min(peak_t, CAST(-peak AS BIGINT) * 17179869184 + peak_t) AS peak_t,
  sum(level_s) AS level_s, sum(starts) AS starts, sum(carried) AS carried
FROM coincidence_day_buckets
GROUP BY tenant, kind, from_start, line, day;
