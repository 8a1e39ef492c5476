-- Purpose: the deals whose amount is in another currency than the store's (kept, but left out
--          of money sums), per currency: of one upload, or of the whole store.
-- Grain: one row per other currency, the most deals first.
-- Parameters: $currency (the store's; NULL: none, so no deal is other), $upload_id (NULL: the
--             whole store; else the leads that upload last wrote).
SELECT currency, count(*) AS deals
FROM leads
WHERE amount IS NOT NULL AND currency IS NOT NULL AND currency <> $currency::VARCHAR
  AND ($upload_id::INTEGER IS NULL OR last_upload_id = $upload_id::INTEGER)
GROUP BY currency
ORDER BY deals DESC, currency;
