-- Purpose: how many records were staged and how many were broken. Grain: one row.
SELECT (SELECT count(*) FROM raw_rows) AS staged, (SELECT count(*) FROM raw_rejects) AS broken;
