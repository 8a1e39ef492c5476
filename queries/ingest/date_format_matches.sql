-- Purpose: how many sampled values (temp table date_sample) of each date field one format reads,
-- out of how many sampled: orders a family's formats so the one a column uses is tried first.
-- Grain: one row per sampled field. Parameters: $format (one strptime format).
SELECT field, count(try_strptime(value, $format)) AS matched, count(*) AS sampled
FROM date_sample
GROUP BY field;
