-- The durable webhook inbox (operations store) moved into DuckDB by the analytics writer.
-- The highest inbox id moved, per operations store (its random id in ops_meta), written in the
-- same transaction as the moved rows: a crash between this commit and the operations store's
-- "moved" mark neither loses nor duplicates anything.
CREATE TABLE inbox_watermarks (
    ops_store  TEXT PRIMARY KEY,
    last_id    BIGINT NOT NULL,
    moved_at   TIMESTAMPTZ NOT NULL
);

-- Batches whose follow-up steps (agent activity facts, missed-call reconciliation) are still
-- to run in the main lane: written by the move, deleted by the follow-up job, so a server
-- killed in between runs them after the restart.
CREATE TABLE inbox_followups (
    batch_id   BIGINT PRIMARY KEY,
    activity   BOOLEAN NOT NULL,
    missed     BOOLEAN NOT NULL
);
