-- Purpose: after `migrate` copied uploads into a DuckDB file, move the upload number sequence
-- past the copied numbers (DuckDB cannot restart a sequence at a value).
-- Grain: one row. Parameters: $last (the highest copied upload_id, 0 for none).
SELECT max(nextval('upload_id_seq')) AS upload_id FROM range($last);
