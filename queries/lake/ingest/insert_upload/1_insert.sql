-- Purpose: ingest/insert_upload on a lake store, step 1 of 2 (DuckLake has no INSERT ...
-- RETURNING): record an ingested file; step 2 selects its upload_id. The steps run in order
-- (funnel.store.lake.run_variant), each with the parameters it names.
-- Parameters: as ingest/insert_upload.
INSERT INTO uploads (upload_id, file_name, sha256, options_hash, source, as_of, ingested_at,
                     rows_read, rows_loaded, rows_rejected, rows_duplicate, mapping, settings)
VALUES (coalesce($upload_id::INTEGER, nextval('upload_id_seq')), $file_name, $sha256,
        $options_hash, $source, $as_of,
        coalesce($ingested_at::TIMESTAMP, current_timestamp::TIMESTAMP), 0, 0, 0, 0, $mapping,
        $settings);
