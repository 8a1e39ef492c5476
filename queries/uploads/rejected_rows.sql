-- Purpose: the rejected rows of one upload (personal cells already redacted), by row number, a
--          page at a time: an upload keeps at most 10,000 (funnel.ingest.core.KEEP_ROWS) and
--          the Upload page shows them a page at a time (issue 16, item 10).
-- Grain: one row per rejected row. Parameters: $upload_id, $limit (NULL: all), $offset.
SELECT row_number, column_name, reason, raw_row
FROM rejected_rows
WHERE upload_id = $upload_id
ORDER BY row_number
LIMIT $limit OFFSET $offset;
