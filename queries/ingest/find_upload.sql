-- Purpose: an earlier upload of the same bytes with the same options, if any. Grain: 0 or 1 row.
-- Parameters: $sha256, $options_hash.
SELECT upload_id FROM uploads
WHERE sha256 = $sha256 AND options_hash = $options_hash
ORDER BY upload_id DESC LIMIT 1;
