-- Purpose: fill an upload's counts: read = loaded + rejected + duplicate, and its cell warnings.
-- Parameters: $upload_id.
UPDATE uploads SET
    rows_rejected = (SELECT count(*) FROM rejected_rows WHERE upload_id = $upload_id),
    rows_duplicate = (SELECT count(*) FROM incoming WHERE is_duplicate),
    rows_loaded = (SELECT count(*) FROM merged WHERE NOT is_orphan),
    rows_read = (SELECT count(*) FROM raw_rows) + (SELECT count(*) FROM raw_rejects),
    rows_warned = (SELECT count(*) FROM cell_warnings WHERE upload_id = $upload_id)
WHERE upload_id = $upload_id;
