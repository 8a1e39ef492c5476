-- Purpose: the first rejected rows of an upload, for the person who uploaded it.
-- Grain: one row per rejected row, by row number. Parameters: $upload_id, $limit.
SELECT row_number, column_name, reason
FROM rejected_rows WHERE upload_id = $upload_id
ORDER BY row_number LIMIT $limit;
