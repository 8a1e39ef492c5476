-- Purpose: uploads as recorded, oldest first: what the raw-uploads manifest keeps and what a
-- rebuild replays (file, bytes' sha256, options hash, mapping and settings JSON, counts).
-- Grain: one row per upload. Parameters: $upload_id (NULL for every upload).
SELECT upload_id, file_name, sha256, options_hash, source, as_of, ingested_at,
       rows_read, rows_loaded, rows_rejected, rows_duplicate, mapping, settings
FROM uploads
WHERE $upload_id IS NULL OR upload_id = $upload_id
ORDER BY upload_id;
