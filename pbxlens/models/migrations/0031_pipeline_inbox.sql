-- The inbox move's follow-ups (agent activity, missed-call reconcile) are now the pipeline's
-- activity and reconcile steps, tracked in pipeline_steps: a follow-up still recorded here
-- (a server stopped before it ran) puts those two steps back to the batch before it.
UPDATE pipeline_steps
SET last_batch = (SELECT min(batch_id) - 1 FROM inbox_followups)
WHERE step IN ('activity', 'reconcile')
  AND last_batch >= (SELECT min(batch_id) FROM inbox_followups);

DROP TABLE inbox_followups;
