-- Purpose: fill a stage history upload's counts: read = loaded + rejected + duplicate.
-- Parameters: $upload_id.
UPDATE uploads SET
    rows_rejected = (SELECT count(*) FROM raw_rejects)
        + (SELECT count(*) FROM typed_rows WHERE reject_reason IS NOT NULL)
        + (SELECT count(*) FROM history_rows WHERE reject_reason IS NOT NULL),
    rows_duplicate = (SELECT count(*) FROM history_rows
                      WHERE reject_reason IS NULL AND is_duplicate),
    rows_loaded = (SELECT count(*) FROM history_rows
                   WHERE reject_reason IS NULL AND NOT is_duplicate),
    rows_read = (SELECT count(*) FROM raw_rows) + (SELECT count(*) FROM raw_rejects),
    rows_warned = 0
WHERE upload_id = $upload_id;
