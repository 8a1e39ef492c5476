-- Purpose: the default as-of date of a file: its latest created, won, lost or close date.
-- Grain: one row.
SELECT max(greatest(created_at, won_at, lost_at, closed_at))::DATE AS as_of
FROM typed_rows WHERE reject_reason IS NULL;
