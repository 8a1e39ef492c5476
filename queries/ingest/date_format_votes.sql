-- Purpose: for each staged date field, how many of its distinct values (up to 1,000, taken in
-- hash order from a repeatable sample of 100,000 rows, so they spread over the whole range:
-- text order would take only '01/..' values, which read the same day-first and month-first)
-- each family of date formats can parse; Excel serial numbers are a family of their own.
-- Grain: one row per field. Parameters: $iso, $us, $day_first, $text (format lists), $fields.
WITH rows_sample AS (
    SELECT created_raw, won_raw, lost_raw, closed_raw
    FROM staged USING SAMPLE reservoir(100000 ROWS) REPEATABLE (7)
),
raw_values AS (
    SELECT 'created_at' AS field, created_raw AS value FROM rows_sample
    UNION ALL SELECT 'won_at', won_raw FROM rows_sample
    UNION ALL SELECT 'lost_at', lost_raw FROM rows_sample
    UNION ALL SELECT 'closed_at', closed_raw FROM rows_sample
),
sample AS (
    SELECT field, value
    FROM (SELECT DISTINCT field, value FROM raw_values WHERE value IS NOT NULL)
    WHERE list_contains($fields, field)
    QUALIFY row_number() OVER (PARTITION BY field ORDER BY hash(value), value) <= 1000
)
SELECT
    field,
    count(try_strptime(value, $iso)) AS iso,
    count(try_strptime(value, $us)) AS us,
    count(try_strptime(value, $day_first)) AS day_first,
    count(try_strptime(value, $text)) AS text,
    count(funnel_excel_ts(value)) FILTER (WHERE try_cast(value AS DOUBLE) BETWEEN 20000 AND 80000)
        AS excel_serial
FROM sample
GROUP BY field;
