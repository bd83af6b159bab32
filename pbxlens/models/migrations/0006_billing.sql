-- Billing (issue 8): Nexus tariffs, PBX billing profiles and the per-call costs the rating
-- engine (pbxlens.billing.rating) derives from them. Money is DECIMAL with 5 decimals (fees
-- are thousandths of a euro since fw 4.13.6; per-call costs are stored at 5 dp, nexus C.2).

CREATE SEQUENCE IF NOT EXISTS billing_tariff_seq START 1;
-- Nexus "Tariffazione" (nexus_modules.md C.1). Blank company/tenant/gateway/prefix/countries
-- = wildcard; blank valid_to = open-ended; a blank rate = not applicable to that direction.
CREATE TABLE billing_tariffs (
    id                BIGINT PRIMARY KEY DEFAULT nextval('billing_tariff_seq'),
    tenant            TEXT,                 -- NULL = every tenant
    company           TEXT,                 -- organization id or name; NULL = every company
    description       TEXT NOT NULL,
    inbound_gateway   TEXT,                 -- gateway name of inbound calls (calls.gateway_name)
    outbound_config   TEXT,                 -- outbound configuration (obl line's dest_id)
    valid_from        DATE NOT NULL,
    valid_to          DATE,                 -- inclusive
    active            BOOLEAN NOT NULL DEFAULT true,
    answer_charge     DECIMAL(12, 5),       -- "scatto alla risposta", always due
    rate_in           DECIMAL(12, 5),       -- EUR per minute, inbound
    rate_out          DECIMAL(12, 5),       -- EUR per minute, outbound
    free_minutes      INTEGER,              -- annual free allowance (minutes)
    prefix            TEXT,                 -- on the national dialled form of the external number
    countries         TEXT,                 -- comma-separated ISO 3166 codes (IT,FR)
    initial_block_s   INTEGER NOT NULL DEFAULT 0,   -- minimum billed seconds (A2Billing initblock)
    increment_s       INTEGER NOT NULL DEFAULT 1,   -- billing step after it (1 = per second)
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    CHECK (increment_s >= 1 AND initial_block_s >= 0)
);

-- The ITU calling codes of each tariff's countries (filled from phonenumbers when saved).
CREATE TABLE billing_tariff_countries (
    tariff_id     BIGINT NOT NULL,
    country       TEXT NOT NULL,
    calling_code  TEXT NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS billing_profile_seq START 1;
-- PBX billing profiles (nexus_modules.md C.6, pbx_data.md §5.4).
CREATE TABLE billing_profiles (
    id        BIGINT PRIMARY KEY DEFAULT nextval('billing_profile_seq'),
    tenant    TEXT NOT NULL DEFAULT 'default',
    name      TEXT NOT NULL,
    enabled   BOOLEAN NOT NULL DEFAULT true,
    UNIQUE (tenant, name)
);

CREATE SEQUENCE IF NOT EXISTS billing_rule_seq START 1;
CREATE TABLE billing_profile_rules (
    id                   BIGINT PRIMARY KEY DEFAULT nextval('billing_rule_seq'),
    profile_id           BIGINT NOT NULL,
    pos                  INTEGER NOT NULL,     -- row order in the imported file
    kind                 TEXT NOT NULL,        -- exact | prefix | any
    selection            TEXT,
    connection_fee       DECIMAL(12, 5),
    connection_s         INTEGER,
    next_fee             DECIMAL(12, 5),
    next_s               INTEGER,
    CHECK (kind IN ('exact', 'prefix', 'any'))
);

-- Which profile each outgoing line uses (line = the obl detail line's dest_name, else the
-- call's gateway_name).
CREATE TABLE billing_profile_lines (
    tenant      TEXT NOT NULL DEFAULT 'default',
    line        TEXT NOT NULL,
    profile_id  BIGINT NOT NULL,
    PRIMARY KEY (tenant, line)
);

CREATE SEQUENCE IF NOT EXISTS billing_run_seq START 1;
-- One row per rated call and method (key tenant, unique_id, leg_branch, method: kept unique by
-- the rating engine, no index, like calls). A call nothing values has no row (cost 0).
CREATE TABLE call_costs (
    tenant        TEXT NOT NULL,
    unique_id     TEXT NOT NULL,
    leg_branch    SMALLINT NOT NULL,
    method        TEXT NOT NULL,            -- tariff | profile
    tariff_id     BIGINT,
    profile_id    BIGINT,
    rule_id       BIGINT,
    direction     TEXT NOT NULL,            -- in | out
    start_ts      TIMESTAMPTZ NOT NULL,
    day           DATE NOT NULL,            -- PBX local day
    yr            SMALLINT NOT NULL,        -- free-allowance year (PBX local)
    company       TEXT NOT NULL,            -- organization id, '' = unknown
    extension     TEXT,                     -- the call's operator, when known
    gateway       TEXT,                     -- inbound gateway / outbound configuration or line
    billed_s      INTEGER NOT NULL,         -- ceil(bill_secs)
    free_s        INTEGER NOT NULL,         -- free-allowance seconds this call consumed
    charged_s     INTEGER NOT NULL,         -- billable seconds after initial block/increment
    cost          DECIMAL(18, 5) NOT NULL,
    cost_nofree   DECIMAL(18, 5) NOT NULL,  -- hypothetical cost without the free allowance
    run_id        BIGINT NOT NULL           -- the rating run that last wrote the row
);
