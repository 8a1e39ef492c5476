-- Purpose: append the stage changes of a stage history as events of the deals they name.
-- Grain: one event per loaded history row. Parameters: $upload_id.
INSERT INTO lead_events (lead_key, stage, occurred_at, upload_id, seen_first)
SELECT lead_key, stage, changed_at, $upload_id, FALSE
FROM history_rows
WHERE reject_reason IS NULL AND NOT is_duplicate;
