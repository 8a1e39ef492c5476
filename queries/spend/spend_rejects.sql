-- Purpose: spend rows not loaded, with their row number and reason. Grain: one row per row.
SELECT row_number, reject_reason AS reason FROM spend_typed
WHERE reject_reason IS NOT NULL ORDER BY row_number;
