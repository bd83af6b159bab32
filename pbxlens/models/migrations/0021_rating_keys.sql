-- Rating keys: what the rating of a call depends on besides the tariffs, the billing profiles
-- and the directory, computed once per call when it is loaded (pbxlens.billing.rating_keys),
-- so that a rating joins keys instead of re-reading call_legs and cleaning numbers per call.

CREATE SEQUENCE IF NOT EXISTS rating_key_seq START 1;
-- One row per distinct key (kept unique by rating_keys.py, no index, like calls).
CREATE TABLE rating_keys (
    kid      BIGINT NOT NULL,
    tenant   TEXT NOT NULL,
    dir      TEXT NOT NULL,    -- in | out
    gw       TEXT,             -- in: the gateway; out: the outbound configuration (last obl
                               -- detail line's id, else the gateway)
    line     TEXT,             -- out: the line billing profiles attach to (the obl line's name,
                               -- else the gateway); in: the gateway
    num      TEXT,             -- the external number's national dialled form
    acc      TEXT,             -- the account that answered (in) / placed (out) the call
    ext      TEXT              -- the extension when no account matches (BL-7)
);

-- One row per ratable call (answered incoming/outgoing, bill_secs > 0).
CREATE TABLE rating_calls (
    tenant      TEXT NOT NULL,
    unique_id   TEXT NOT NULL,
    leg_branch  SMALLINT NOT NULL,
    kid         BIGINT NOT NULL,
    start_ts    TIMESTAMPTZ NOT NULL,
    day         DATE NOT NULL,        -- PBX local day
    yr          SMALLINT NOT NULL,    -- free-allowance year (PBX local)
    s           INTEGER NOT NULL      -- billed seconds = ceil(bill_secs)
);

-- The number settings the keys were computed with (none yet: the first use builds them).
CREATE TABLE rating_keys_meta (
    seize       TEXT NOT NULL,       -- line_prefix
    home        TEXT NOT NULL,       -- calling code of default_region
    built_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
