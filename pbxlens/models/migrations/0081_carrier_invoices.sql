-- Carrier reconciliation (pbxlens.billing.carrier): a carrier's invoice detail (one line per
-- call: number, start, duration, cost), its rejected lines, and the lines matched to calls.

CREATE SEQUENCE IF NOT EXISTS carrier_invoice_seq START 1;
CREATE TABLE carrier_invoices (
    id           BIGINT PRIMARY KEY DEFAULT nextval('carrier_invoice_seq'),
    tenant       TEXT NOT NULL DEFAULT 'default',
    gateway      TEXT NOT NULL,          -- the outgoing line / outbound configuration it bills
    file_name    TEXT NOT NULL,
    sha256       TEXT NOT NULL,          -- the file's content: importing it twice is a no-op
    imported_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    lines        INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    first_day    DATE,                   -- the days its lines span (PBX local)
    last_day     DATE,
    UNIQUE (tenant, gateway, sha256)
);

CREATE TABLE carrier_invoice_lines (
    invoice_id   BIGINT NOT NULL,
    line_no      INTEGER NOT NULL,       -- the file's line (the header is line 1)
    number       TEXT NOT NULL,          -- national dialled form, as the rating keys
    start_ts     TIMESTAMPTZ NOT NULL,   -- the file's local time in the PBX time zone
    day          DATE NOT NULL,
    duration_s   INTEGER NOT NULL,
    cost         DECIMAL(18, 5) NOT NULL
);

CREATE TABLE carrier_invoice_rejects (
    invoice_id   BIGINT NOT NULL,
    line_no      INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    raw          TEXT
);

-- One row per invoice line matched to a call (recomputed by reconcile()).
CREATE TABLE carrier_matches (
    invoice_id   BIGINT NOT NULL,
    line_no      INTEGER NOT NULL,
    tenant       TEXT NOT NULL,
    unique_id    TEXT NOT NULL,
    leg_branch   SMALLINT NOT NULL
);
