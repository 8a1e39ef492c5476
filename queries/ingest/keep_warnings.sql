-- Purpose: store an upload's first $keep_rows cell warnings (by row and column) of those in
--          warned_cells (insert_warnings): enough to read and to download, never millions.
-- Parameters: $upload_id, $keep_rows.
INSERT INTO cell_warnings
SELECT $upload_id, row_number, column_name, value, reason
FROM warned_cells
ORDER BY row_number, column_name
LIMIT $keep_rows;
