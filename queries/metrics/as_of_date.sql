-- Purpose: the store's as-of date, used to censor open leads and to age cohorts: the latest
--          uploads.as_of (snapshot date), else the latest created, won or lost date.
-- Grain: one row: as_of_date (DATE or NULL on an empty store), basis ('uploads' or 'data').
-- Parameters: none (a property of the whole store, not of a selection).
SELECT
    coalesce(
        (SELECT max(as_of) FROM uploads),
        (SELECT greatest(max(created_at)::DATE, max(won_at)::DATE, max(lost_at)::DATE) FROM leads)
    ) AS as_of_date,
    CASE WHEN (SELECT max(as_of) FROM uploads) IS NOT NULL THEN 'uploads' ELSE 'data' END AS basis;
