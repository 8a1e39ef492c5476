-- Purpose: the spreadsheet row number of each staged record: numbers from $first_row upwards,
-- skipping the rows already rejected as broken. Grain: one row per raw_rows record.
-- Parameters: $first_row (row number of the first data row).
CREATE TEMP TABLE row_map AS
WITH slots AS (
    SELECT s.range AS row_number
    FROM range(
        $first_row,
        $first_row + (SELECT count(*) FROM raw_rows) + (SELECT count(*) FROM raw_rejects)
    ) s
    WHERE s.range NOT IN (SELECT row_number FROM raw_rejects)
)
SELECT row_number() OVER (ORDER BY row_number) - 1 AS ordinal, row_number
FROM slots;
