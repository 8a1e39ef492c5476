-- Purpose: append the stage changes this upload shows: a new lead enters 'new' at its created
-- date (and its current stage, if further); a known lead whose stage changed enters the new one,
-- dated by the file's won/lost/close date if it has one, else the upload's as-of date (merged's
-- stage_event_at: the date the lead's stored progress, hot_since, was moved on with).
-- Parameters: $upload_id.
INSERT INTO lead_events
SELECT lead_key, 'new', created_at, $upload_id
FROM merged
WHERE NOT is_orphan AND NOT existed
UNION ALL
SELECT lead_key, stage, stage_event_at, $upload_id
FROM merged
WHERE NOT is_orphan
  AND stage IS DISTINCT FROM coalesce(old_stage, 'new');
