-- Purpose: how many spend rows of the last spend file were loaded. Grain: one row.
SELECT count(*) FROM spend_typed WHERE reject_reason IS NULL;
