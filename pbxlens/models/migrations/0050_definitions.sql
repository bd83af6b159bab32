-- Copies of the operations store's definitions that report SQL joins (design.md: DuckDB copies
-- of operations data are refreshed by writer jobs): replaced whole by the writer job
-- `definitions` (pbxlens.reports.definitions.sync) after every change. Empty tables mean
-- "every queue on the defaults of the settings, no calendar".

-- A queue's own service-level definition (operations table queue_definitions).
CREATE TABLE queue_definitions (
    tenant           TEXT NOT NULL,
    qkey             TEXT NOT NULL,      -- queue id, else name (queue_visits.qkey)
    sl_threshold_s   INTEGER NOT NULL,   -- T: answered within T seconds of entering the queue
    sl_target_pct    INTEGER NOT NULL,   -- the target, percent
    sl_variant       TEXT NOT NULL,      -- abandon_aware | offered | answered | offered_no_short
    short_abandon_s  INTEGER NOT NULL,   -- S: abandons in less than S seconds are short
    PRIMARY KEY (tenant, qkey)
);

-- Weekly opening hours: [open_min, close_min) minutes of the PBX-local day, 1 = Monday.
CREATE TABLE calendar_hours (
    tenant       TEXT NOT NULL,
    calendar_id  BIGINT NOT NULL,
    isodow       SMALLINT NOT NULL,
    open_min     SMALLINT NOT NULL,
    close_min    SMALLINT NOT NULL
);

-- Every closed day of a calendar, expanded: national (and province) holidays of the holidays
-- package, local yearly holidays and one-off closures.
CREATE TABLE calendar_closed_days (
    tenant       TEXT NOT NULL,
    calendar_id  BIGINT NOT NULL,
    day          DATE NOT NULL,
    name         TEXT NOT NULL
);

-- The calendar of a queue; qkey '' = the tenant's calendar.
CREATE TABLE calendar_assignments (
    tenant       TEXT NOT NULL,
    qkey         TEXT NOT NULL,
    calendar_id  BIGINT NOT NULL,
    PRIMARY KEY (tenant, qkey)
);
