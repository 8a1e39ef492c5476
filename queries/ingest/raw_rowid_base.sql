-- Purpose: the first rowid of the staged file (0 unless created inside a transaction).
SELECT min(rowid) FROM raw_rows;
