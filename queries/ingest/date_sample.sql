-- Purpose: the date values the families of formats are tried on: for each staged date field, up
-- to 300 distinct values taken in hash order from a repeatable sample of 100,000 rows, so they
-- spread over the whole range (text order would take only '01/..' values, which read the same
-- day-first and month-first). Kept as a small temp table: the family vote and the ISO format
-- counts (date_format_matches) read the same sample.
-- Grain: one row per (field, distinct value). Parameters: $fields (the date fields mapped or set).
CREATE OR REPLACE TEMP TABLE date_sample AS
WITH rows_sample AS (
    SELECT created_raw, won_raw, lost_raw, closed_raw
    FROM staged USING SAMPLE reservoir(100000 ROWS) REPEATABLE (7)
),
raw_values AS (
    SELECT 'created_at' AS field, created_raw AS value FROM rows_sample
    UNION ALL SELECT 'won_at', won_raw FROM rows_sample
    UNION ALL SELECT 'lost_at', lost_raw FROM rows_sample
    UNION ALL SELECT 'closed_at', closed_raw FROM rows_sample
)
SELECT field, value
FROM (SELECT DISTINCT field, value FROM raw_values WHERE value IS NOT NULL)
WHERE list_contains($fields, field)
-- 300, not more: the vote tries every format of every family on each value, ~0.2 ms a value
-- (try_strptime reads its list of formats per value); 300 spread values tell month-first from
-- day-first as surely as 1,000 (about half have a day over 12)
QUALIFY row_number() OVER (PARTITION BY field ORDER BY hash(value), value) <= 300;
