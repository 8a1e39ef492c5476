-- Purpose: how many leads the store holds. Grain: one row.
SELECT count(*) AS leads FROM leads;
