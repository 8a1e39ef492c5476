-- Purpose: one upload as recorded. Grain: one row. Parameters: $upload_id.
SELECT upload_id, file_name, source, as_of, rows_read, rows_loaded, rows_rejected,
       rows_duplicate, mapping, settings, rows_warned
FROM uploads WHERE upload_id = $upload_id;
