-- The pipeline of post-batch steps (pbxlens.pipeline): a batch commits its facts (calls,
-- call_legs, queue calls, events ...) alone; each step then brings its derived tables up to
-- date in its own transaction and records here the last batch it has finished. A step with
-- no row has finished nothing (a step added later first derives the whole history).
CREATE TABLE pipeline_steps (
    step        TEXT PRIMARY KEY,
    last_batch  BIGINT NOT NULL,
    finished_at TIMESTAMPTZ,
    seconds     DOUBLE,          -- how long its last run took
    error       TEXT             -- the last run's failure, NULL once it succeeds again
);

-- Before this table existed every step ran inside the batch's own transaction: a store
-- migrated now is up to date with every batch it holds.
INSERT INTO pipeline_steps (step, last_batch, finished_at)
SELECT s.step, (SELECT coalesce(max(batch_id), 0) FROM ingest_batches), current_timestamp
FROM (VALUES ('derive'), ('rollups'), ('activity'), ('rating'), ('reconcile')) s(step);

-- The calls a batch replaced (new content for a stored key), with the day the replaced row
-- held: the steps remove the derived rows of that day, and rollups recompute it. Appended by
-- the loader, pruned once every step has passed the batch.
CREATE TABLE replaced_calls (
    batch_id    BIGINT NOT NULL,
    tenant      TEXT NOT NULL,
    unique_id   TEXT NOT NULL,
    leg_branch  SMALLINT NOT NULL,
    old_day     DATE NOT NULL
);
