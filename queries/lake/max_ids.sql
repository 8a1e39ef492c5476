-- Purpose: the highest upload and decision numbers in the store (0 for none), for `migrate`.
-- Grain: one row. Parameters: none.
SELECT
    (SELECT coalesce(max(upload_id), 0) FROM uploads) AS last_upload_id,
    (SELECT coalesce(max(decision_id), 0) FROM decisions) AS last_decision_id;
