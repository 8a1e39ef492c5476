-- Purpose: why an upload's cells were read as unknown, the commonest reasons first (the quoted
--          cell values left out of the grouping), each with its first row as the example.
-- Grain: one row per (column, reason), at most $limit. Parameters: $upload_id, $limit.
SELECT
    column_name,
    arg_min(reason, row_number) AS example_reason,
    count(*) AS cells,
    min(row_number) AS example_row
FROM cell_warnings
WHERE upload_id = $upload_id
GROUP BY column_name, regexp_replace(reason, '''[^'']*''', '', 'g')
ORDER BY cells DESC, example_row
LIMIT $limit;
