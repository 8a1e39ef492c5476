-- Purpose: ingest/insert_upload on a lake store (DuckLake has no INSERT ... RETURNING): record
-- an ingested file, then select its upload_id. Two statements, run in order by
-- funnel.store.lake.run_variant, each with the parameters it names; the SELECT's rows are the
-- result. The new id is the highest of this file's uploads: the temp sequence starts past every
-- id the transaction sees (funnel.store.lake.set_sequences).
-- Parameters: as ingest/insert_upload.
INSERT INTO uploads (upload_id, file_name, sha256, options_hash, source, as_of, ingested_at,
                     rows_read, rows_loaded, rows_rejected, rows_duplicate, mapping, settings)
VALUES (coalesce($upload_id::INTEGER, nextval('upload_id_seq')), $file_name, $sha256,
        $options_hash, $source, $as_of,
        coalesce($ingested_at::TIMESTAMP, current_timestamp::TIMESTAMP), 0, 0, 0, 0, $mapping,
        $settings);
SELECT coalesce($upload_id::INTEGER, max(upload_id)) AS upload_id
FROM uploads
WHERE sha256 = $sha256 AND options_hash = $options_hash;
