-- Purpose: re-count every lead's value in the store's currency: the amount when the deal is in
--          it (or names no currency), else NULL (kept in amount, left out of money sums).
-- Parameters: $currency.
UPDATE leads SET value = CASE WHEN currency IS NULL OR currency = $currency THEN amount END;
