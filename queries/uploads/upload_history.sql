-- Purpose: every upload, newest first, for the Upload page's history.
-- Grain: one row per upload.
SELECT upload_id, file_name, source, as_of, ingested_at, rows_read, rows_loaded, rows_rejected,
       rows_duplicate, rows_warned
FROM uploads
ORDER BY upload_id DESC;
