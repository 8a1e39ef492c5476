-- Purpose: fill an upload's counts: read = loaded + rejected + duplicate, and its cell warnings.
-- Parameters: $upload_id.
UPDATE uploads SET
    -- all of them, not the rows kept (insert_rejects keeps the first few thousand)
    rows_rejected = (SELECT count(*) FROM raw_rejects)
        + (SELECT count(*) FROM typed_rows WHERE reject_reason IS NOT NULL)
        + (SELECT count(*) FROM merged WHERE is_orphan),
    rows_duplicate = (SELECT count(*) FROM incoming WHERE is_duplicate),
    rows_loaded = (SELECT count(*) FROM merged WHERE NOT is_orphan),
    rows_read = (SELECT count(*) FROM raw_rows) + (SELECT count(*) FROM raw_rejects),
    rows_warned = (SELECT count(*) FROM warned_cells)
WHERE upload_id = $upload_id;
