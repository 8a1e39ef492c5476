-- Purpose: an upload's rows read and loaded, to tell a file from which nothing loaded.
-- Grain: one row. Parameters: $upload_id.
SELECT rows_read, rows_loaded FROM uploads WHERE upload_id = $upload_id;
