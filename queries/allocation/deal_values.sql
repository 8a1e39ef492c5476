-- Purpose: allocation input: the observed value of won deals per channel (the size of a win),
--          for expected won value per lead and per unit of cost.
-- Grain: one row per channel with at least one won lead carrying a value; ordered by channel.
--        won_with_value = won leads whose value is not NULL; value_mean / value_sd = their mean
--        and sample standard deviation (value_sd NULL with a single value).
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels (VARCHAR[] or NULL = all).
-- The values are summed in lead_key order: a sum of doubles depends on the order it adds them
-- in, and the order rows are scanned in is the store's (a DuckLake store's Parquet files may
-- hold them in another order than a DuckDB file): the same leads give the same digits.
SELECT
    l.channel,
    count(*) AS won_with_value,
    avg(l.value ORDER BY l.lead_key) AS value_mean,
    stddev_samp(l.value ORDER BY l.lead_key) AS value_sd
FROM leads AS l
WHERE l.stage = 'won'
  AND l.value IS NOT NULL
  AND ($start::DATE IS NULL OR l.created_at >= $start::DATE::TIMESTAMP)
  AND ($end::DATE IS NULL OR l.created_at < ($end::DATE + 1)::TIMESTAMP)
  AND ($channels::VARCHAR[] IS NULL OR list_contains($channels::VARCHAR[], l.channel))
GROUP BY l.channel
ORDER BY l.channel;
