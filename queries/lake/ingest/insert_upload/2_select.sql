-- Purpose: ingest/insert_upload on a lake store, step 2 of 2: the upload_id step 1 gave. A new
-- id is the highest of this file's uploads: the temp sequence starts past every id the
-- transaction sees (funnel.store.lake.set_sequences), and the transaction holds no later one.
-- Grain: one row. Parameters: $upload_id (NULL: step 1 took the next one), $sha256,
-- $options_hash.
SELECT coalesce($upload_id::INTEGER, max(upload_id)) AS upload_id
FROM uploads
WHERE sha256 = $sha256 AND options_hash = $options_hash;
