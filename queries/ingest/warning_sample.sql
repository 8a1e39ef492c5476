-- Purpose: the first cell warnings of an upload, for the person who uploaded it.
-- Grain: one row per warned cell, by row number. Parameters: $upload_id, $limit.
SELECT row_number, column_name, value, reason
FROM cell_warnings WHERE upload_id = $upload_id
ORDER BY row_number, column_name LIMIT $limit;
