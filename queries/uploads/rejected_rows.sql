-- Purpose: the rejected rows of one upload (personal cells already redacted), by row number.
-- Grain: one row per rejected row. Parameters: $upload_id.
SELECT row_number, column_name, reason, raw_row
FROM rejected_rows
WHERE upload_id = $upload_id
ORDER BY row_number;
