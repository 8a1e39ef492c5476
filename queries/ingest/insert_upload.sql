-- Purpose: record an ingested file (counts are filled in by update_upload_counts).
-- Parameters: $file_name, $sha256, $options_hash, $source, $as_of, $mapping, $settings.
INSERT INTO uploads (file_name, sha256, options_hash, source, as_of, rows_read, rows_loaded,
                     rows_rejected, rows_duplicate, mapping, settings)
VALUES ($file_name, $sha256, $options_hash, $source, $as_of, 0, 0, 0, 0, $mapping, $settings)
RETURNING upload_id;
