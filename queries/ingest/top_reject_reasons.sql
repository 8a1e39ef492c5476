-- Purpose: why an upload's rows were rejected, the commonest reasons first: rows grouped by
--          their reason with the quoted values (a lead's id, a cell) left out, each group with
--          its first row and that row's whole reason as the example.
-- Grain: one row per (column, reason), at most $limit. Parameters: $upload_id, $limit.
SELECT
    column_name,
    arg_min(reason, row_number) AS example_reason,
    count(*) AS rows,
    min(row_number) AS example_row
FROM rejected_rows
WHERE upload_id = $upload_id
GROUP BY column_name, regexp_replace(reason, '''[^'']*''', '', 'g')
ORDER BY rows DESC, example_row
LIMIT $limit;
