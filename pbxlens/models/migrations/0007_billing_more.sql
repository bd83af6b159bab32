-- Billing, multiservice (issue 8 part 6; nexus_modules.md C.5): a catalog of services, the
-- contract period ("competenza") of each company, and the quantities entered per company and
-- period for the services that are not calls. Calls are counted from the CDR at report time.

CREATE SEQUENCE IF NOT EXISTS billing_service_seq START 1;
CREATE TABLE billing_services (
    id             BIGINT PRIMARY KEY DEFAULT nextval('billing_service_seq'),
    tenant         TEXT NOT NULL DEFAULT 'default',
    name           TEXT NOT NULL,            -- "chiamate in", "visura camerale" ...
    kind           TEXT NOT NULL,            -- calls_in | calls_out | units
    rate           DECIMAL(12, 5) NOT NULL,  -- EUR per minute (calls) or per unit
    free_limit     INTEGER NOT NULL DEFAULT 0,   -- minutes for calls, units otherwise (BL-10)
    answer_charge  DECIMAL(12, 5),           -- per answered call (calls only)
    UNIQUE (tenant, name),
    CHECK (kind IN ('calls_in', 'calls_out', 'units') AND rate >= 0 AND free_limit >= 0)
);

-- One contract period per company ("competenza"); the company is an organization id or name.
CREATE TABLE billing_contracts (
    tenant      TEXT NOT NULL DEFAULT 'default',
    company     TEXT NOT NULL,
    valid_from  DATE NOT NULL,
    valid_to    DATE,                         -- inclusive; NULL = open-ended
    PRIMARY KEY (tenant, company)
);

CREATE SEQUENCE IF NOT EXISTS billing_quantity_seq START 1;
-- Quantities of a non-call service entered for a company and a period.
CREATE TABLE billing_service_quantities (
    id           BIGINT PRIMARY KEY DEFAULT nextval('billing_quantity_seq'),
    tenant       TEXT NOT NULL DEFAULT 'default',
    company      TEXT NOT NULL,
    service_id   BIGINT NOT NULL,
    period_from  DATE NOT NULL,
    period_to    DATE NOT NULL,
    quantity     INTEGER NOT NULL,
    CHECK (quantity >= 0 AND period_to >= period_from)
);
