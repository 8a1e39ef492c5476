-- Purpose: drop the temp tables an ingest stages: before the next one, and once an ingest has
-- committed (they hold a whole file's rows).
DROP TABLE IF EXISTS temp.main.raw_rows;
DROP TABLE IF EXISTS temp.main.raw_rejects;
DROP TABLE IF EXISTS temp.main.row_map;
DROP TABLE IF EXISTS temp.main.csv_reject_errors;
DROP TABLE IF EXISTS temp.main.csv_reject_scans;
DROP TABLE IF EXISTS temp.main.staged;
DROP TABLE IF EXISTS temp.main.date_sample;
DROP TABLE IF EXISTS temp.main.typed_rows;
DROP TABLE IF EXISTS temp.main.incoming;
DROP TABLE IF EXISTS temp.main.merged;
DROP TABLE IF EXISTS temp.main.history_rows;
DROP TABLE IF EXISTS temp.main.warned_cells;
DROP TABLE IF EXISTS temp.main.raw_redacted;
DROP VIEW IF EXISTS temp.main.raw_redacted;
