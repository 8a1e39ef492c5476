-- Purpose: the spreadsheet row number of each staged record: numbers from $first_row upwards,
-- skipping the rows already rejected as broken and the empty rows (which DuckDB skips when it
-- numbers records). Grain: one row per raw_rows record.
-- Parameters: $first_row (row number of the first data row), $empty_rows (BIGINT[]: the empty
-- rows below the header, numbered as a spreadsheet).
CREATE TEMP TABLE row_map AS
WITH skipped AS (
    SELECT row_number FROM raw_rejects
    UNION ALL
    SELECT unnest(CAST($empty_rows AS BIGINT[])) AS row_number
),
slots AS (
    SELECT s.range AS row_number
    FROM range(
        $first_row,
        $first_row + (SELECT count(*) FROM raw_rows) + (SELECT count(*) FROM skipped)
    ) s
    WHERE s.range NOT IN (SELECT row_number FROM skipped)
)
SELECT row_number() OVER (ORDER BY row_number) - 1 AS ordinal, row_number
FROM slots;
