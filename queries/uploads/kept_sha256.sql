-- Purpose: the sha256 of every upload's bytes: the kept raw files the store still needs (any
-- other in <db>.uploads was left by a process killed mid-upload). Grain: one row per sha256.
SELECT DISTINCT sha256 FROM uploads;
