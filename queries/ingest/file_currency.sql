-- Purpose: the currency most of a file's amounts are in: the store's currency when the store
--          has none yet (the first file that names currencies sets it). Ties go to the
--          currency seen first. Grain: 0 or 1 row. Parameters: none.
SELECT currency
FROM typed_rows
WHERE reject_reason IS NULL AND currency IS NOT NULL AND value IS NOT NULL
GROUP BY currency
ORDER BY count(*) DESC, min(row_number)
LIMIT 1;
