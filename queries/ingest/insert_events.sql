-- Purpose: append the stage changes this upload shows: a new lead enters 'new' at its created
-- date (and its current stage, if further); a known lead whose stage changed enters the new one,
-- dated by the file's won/lost/close date if it has one, else the upload's as-of date.
-- Parameters: $upload_id, $as_of (TIMESTAMP).
INSERT INTO lead_events
SELECT lead_key, 'new', created_at, $upload_id
FROM merged
WHERE NOT is_orphan AND NOT existed
UNION ALL
SELECT
    lead_key,
    stage,
    CASE stage WHEN 'won' THEN won_at WHEN 'lost' THEN lost_at
               ELSE greatest($as_of, created_at) END,
    $upload_id
FROM merged
WHERE NOT is_orphan
  AND stage IS DISTINCT FROM coalesce(old_stage, 'new');
