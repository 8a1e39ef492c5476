-- Purpose: keep every row that was not loaded, with its spreadsheet row number, the column at
-- fault and the reason; personal-data cells are redacted (view raw_redacted). Only a row's
-- identity rejects it (SPEC 3): a record too broken to split into cells, no id where the id
-- column is mapped (typed_rows), or no usable created date for a lead not in the store yet
-- (merged's orphans: the reason says why the date cannot be used). What would fix a whole file
-- (a created date for every row, say) is said once per upload by the caller, in the words of
-- its surface (a --set on the command line, a box on the Upload page), not in every row.
-- A record too broken to split into cells keeps its raw text only when the file has no
-- personal-data columns (its cells cannot be told apart to redact them).
-- An upload keeps its first $keep_rows rejected rows (by row number; the count of them all is
-- the upload's rows_rejected): a file of 2 million broken rows must not make every view of the
-- Upload page rebuild a 2-million-row table (issue 16).
-- Parameters: $upload_id, $created_at_col, $has_created (a created date is mapped or set),
-- $has_personal (the file has personal-data columns), $keep_rows.
INSERT INTO rejected_rows
SELECT * FROM (
SELECT $upload_id, r.row_number, NULL, 'this row ' || r.reason,
       CASE WHEN $has_personal THEN NULL
            ELSE regexp_replace(r.raw_line, '[^\s,;|"]+@[^\s,;|"]+', '[redacted]', 'g')
       END
FROM raw_rejects r
UNION ALL
SELECT $upload_id, t.row_number, t.reject_column, t.reject_reason, x.raw_row::VARCHAR
FROM typed_rows t LEFT JOIN raw_redacted x ON x.row_number = t.row_number
WHERE t.reject_reason IS NOT NULL
UNION ALL
SELECT $upload_id, m.row_number, $created_at_col,
       CASE WHEN t.created_issue IS NOT NULL
            THEN format('{} ''{}'' {}', $created_at_col, t.created_bad, t.created_issue)
            WHEN $has_created
            THEN format('{} is empty, and lead ''{}'' is not in the store yet', $created_at_col,
                        coalesce(m.crm_id, 'row ' || m.row_number))
            ELSE format('names lead ''{}'', which is not in the store, and the file has no date '
                        || 'the lead came in', coalesce(m.crm_id, 'row ' || m.row_number))
       END,
       x.raw_row::VARCHAR
FROM merged m
LEFT JOIN typed_rows t ON t.row_number = m.row_number
LEFT JOIN raw_redacted x ON x.row_number = m.row_number
WHERE m.is_orphan
) ORDER BY 2 LIMIT $keep_rows;
