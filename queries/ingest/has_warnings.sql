-- Purpose: whether an upload has any cell to warn about (insert_warnings reads typed_rows eight
--          times: skipped at 1M rows when, as usual, nothing is to be said). Grain: one row.
-- Parameters: none.
SELECT
    EXISTS (SELECT 1 FROM typed_rows
            WHERE won_issue IS NOT NULL OR lost_issue IS NOT NULL OR closed_issue IS NOT NULL
               OR created_issue IS NOT NULL OR value_bad IS NOT NULL
               OR converted_bad IS NOT NULL OR is_closed_bad IS NOT NULL)
    OR EXISTS (SELECT 1 FROM merged WHERE dropped_outcome_at IS NOT NULL) AS has_warnings;
