-- Purpose: keep every row of a stage history that was not loaded, with its spreadsheet row
--          number, the column at fault and the reason (as ingest/insert_rejects does for leads).
-- Keeps the first $keep_rows of them (the upload's rows_rejected counts them all).
-- Parameters: $upload_id, $id_col, $date_col (the columns named), $keep_rows.
INSERT INTO rejected_rows
SELECT * FROM (
SELECT $upload_id, r.row_number, NULL, 'this row ' || r.reason, NULL
FROM raw_rejects r
UNION ALL
SELECT $upload_id, t.row_number, t.reject_column, t.reject_reason, x.raw_row::VARCHAR
FROM typed_rows t LEFT JOIN raw_redacted x ON x.row_number = t.row_number
WHERE t.reject_reason IS NOT NULL
UNION ALL
SELECT $upload_id, h.row_number,
       CASE WHEN h.reject_reason LIKE 'names deal%' THEN $id_col ELSE $date_col END,
       h.reject_reason, x.raw_row::VARCHAR
FROM history_rows h LEFT JOIN raw_redacted x ON x.row_number = h.row_number
WHERE h.reject_reason IS NOT NULL
) ORDER BY 2 LIMIT $keep_rows;
