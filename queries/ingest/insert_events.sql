-- Purpose: append the stage changes this upload shows: a new lead enters 'new' at its created
-- date (and its current stage, if further); a known lead whose stage changed enters the new one,
-- dated by the file's won/lost/close date if it has one, else the upload's as-of date (merged's
-- stage_event_at: the date the lead's stored progress, hot_since, was moved on with).
-- A new lead's current stage other than 'new' is marked seen_first: the file shows it there, not
-- when it got there.
-- Parameters: $upload_id.
INSERT INTO lead_events (lead_key, stage, occurred_at, upload_id, seen_first)
SELECT lead_key, 'new', created_at, $upload_id, FALSE
FROM merged
WHERE NOT is_orphan AND NOT existed
UNION ALL
SELECT lead_key, stage, stage_event_at, $upload_id, NOT existed
FROM merged
WHERE NOT is_orphan
  AND stage IS DISTINCT FROM coalesce(old_stage, 'new');
