-- Purpose: the store's as-of date, used to censor open leads and to age cohorts: the latest
--          uploads.as_of of an upload that loaded rows (snapshot date), else the latest
--          created, won or lost date (the funnel_as_of macro, schema/004).
-- Grain: one row: as_of_date (DATE or NULL on an empty store), basis ('uploads' or 'data').
-- Parameters: none (a property of the whole store, not of a selection).
SELECT
    funnel_as_of() AS as_of_date,
    CASE WHEN (SELECT max(as_of) FROM uploads WHERE rows_loaded > 0) IS NOT NULL THEN 'uploads'
         ELSE 'data' END AS basis;
