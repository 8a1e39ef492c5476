-- Purpose: drop the staged cells and the date sample once typed_rows holds them typed (before
-- the write transaction: a temp table dropped inside one keeps its memory until COMMIT).
DROP TABLE IF EXISTS temp.main.staged;
DROP TABLE IF EXISTS temp.main.date_sample;
