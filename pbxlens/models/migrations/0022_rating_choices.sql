-- The tariff each rating key takes, per validity segment [d0, d1) of PBX-local days, as the
-- last rating of the key computed it (pbxlens.billing.rating): a tariff change compares it
-- with the new choice and re-rates only the calls of the days whose tariff moves (or whose
-- tariff changed). A key without a row had no tariff on those days, or was never rated.
CREATE TABLE rating_choices (
    kid         BIGINT NOT NULL,
    d0          DATE NOT NULL,
    d1          DATE NOT NULL,      -- exclusive; 9999-12-31 = open-ended
    tariff_id   BIGINT NOT NULL
);
