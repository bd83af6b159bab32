-- Bills finance can defend: a minimum cost per call of a tariff, and bundles of minutes per
-- month (with or without rollover) with a flat fee and the overage priced per minute.

-- The least a charged call of the tariff costs (answer charge included); NULL = none. A call
-- the free minutes cover entirely (0 charged seconds) owes the answer charge only.
ALTER TABLE billing_tariffs ADD COLUMN min_charge DECIMAL(12, 5);

CREATE SEQUENCE IF NOT EXISTS billing_bundle_seq START 1;
-- A monthly bundle on the calls a tariff values (pbxlens.billing.bundles): per company and
-- calendar month, `minutes` are included for `flat_fee`; the charged seconds beyond them are
-- the overage, priced at `overage_rate` per minute (rounded once per month). With `rollover`
-- the unused minutes carry over to the following months of the same calendar year.
CREATE TABLE billing_bundles (
    id            BIGINT PRIMARY KEY DEFAULT nextval('billing_bundle_seq'),
    tenant        TEXT NOT NULL DEFAULT 'default',
    company       TEXT,                  -- organization id or name; NULL = each company
    description   TEXT NOT NULL,
    tariff_id     BIGINT NOT NULL,       -- the calls of this tariff (both directions)
    minutes       INTEGER NOT NULL,      -- included per month
    rollover      BOOLEAN NOT NULL DEFAULT false,
    flat_fee      DECIMAL(12, 5) NOT NULL DEFAULT 0,   -- per month
    overage_rate  DECIMAL(12, 5) NOT NULL,             -- EUR per minute beyond the bundle
    valid_from    DATE NOT NULL,         -- first day of the first month billed
    valid_to      DATE,                  -- inclusive; NULL = open-ended
    CHECK (minutes >= 0 AND flat_fee >= 0 AND overage_rate >= 0)
);
