-- Purpose: record an ingested file (counts are filled in by update_upload_counts).
-- Parameters: $upload_id (NULL: the next one; a replay keeps the upload's own), $file_name,
-- $sha256, $options_hash, $source, $as_of, $ingested_at (NULL: now; a replay keeps the
-- original), $mapping, $settings.
INSERT INTO uploads (upload_id, file_name, sha256, options_hash, source, as_of, ingested_at,
                     rows_read, rows_loaded, rows_rejected, rows_duplicate, mapping, settings)
VALUES (coalesce($upload_id::INTEGER, nextval('upload_id_seq')), $file_name, $sha256,
        $options_hash, $source, $as_of,
        coalesce($ingested_at::TIMESTAMP, current_timestamp::TIMESTAMP), 0, 0, 0, 0, $mapping,
        $settings)
RETURNING upload_id;
