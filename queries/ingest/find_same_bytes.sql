-- Purpose: an earlier upload of the same bytes (with other options: the caller has looked for
-- the same options first), which a new ingest of them replaces. Grain: 0 or 1 row.
-- Parameters: $sha256.
SELECT upload_id FROM uploads
WHERE sha256 = $sha256
ORDER BY upload_id DESC LIMIT 1;
