-- Purpose: keep every row that was not loaded, with its spreadsheet row number, the column at
-- fault and the reason; personal-data cells are redacted (view raw_redacted).
-- A record too broken to split into cells keeps its raw text only when the file has no
-- personal-data columns (its cells cannot be told apart to redact them).
-- Parameters: $upload_id, $created_at_col, $has_created (a created date is mapped or set),
-- $has_personal (the file has personal-data columns).
INSERT INTO rejected_rows
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
       CASE WHEN $has_created
            THEN format('{} is empty and lead ''{}'' is not in the store yet; give a default with '
                        || '--set created_at=YYYY-MM-DD or fill the cell', $created_at_col,
                        coalesce(m.crm_id, 'row ' || m.row_number))
            ELSE format('names lead ''{}'', which is not in the store, and the file has no created '
                        || 'date; upload the leads first, or give one with --set created_at=YYYY-MM-DD',
                        coalesce(m.crm_id, 'row ' || m.row_number))
       END,
       x.raw_row::VARCHAR
FROM merged m LEFT JOIN raw_redacted x ON x.row_number = m.row_number
WHERE m.is_orphan;
