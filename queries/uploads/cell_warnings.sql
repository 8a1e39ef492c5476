-- Purpose: the cell warnings of one upload (cells read as unknown while their row loaded), by
--          row number, a page at a time (at most 10,000 are kept per upload; issue 16, item 10).
-- Grain: one row per cell. Parameters: $upload_id, $limit (NULL: all), $offset.
SELECT row_number, column_name, value, reason
FROM cell_warnings
WHERE upload_id = $upload_id
ORDER BY row_number, column_name
LIMIT $limit OFFSET $offset;
