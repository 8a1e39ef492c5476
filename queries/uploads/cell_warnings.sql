-- Purpose: the cell warnings of one upload (cells read as unknown while their row loaded), by
-- row number. Grain: one row per cell. Parameters: $upload_id.
SELECT row_number, column_name, value, reason
FROM cell_warnings
WHERE upload_id = $upload_id
ORDER BY row_number, column_name;
