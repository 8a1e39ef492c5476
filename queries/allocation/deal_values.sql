-- Purpose: allocation input: the observed value of won deals per channel (the size of a win),
--          for expected won value per lead and per unit of cost.
-- Grain: one row per channel with at least one won lead carrying a value; ordered by channel.
--        won_with_value = won leads whose value is not NULL; value_mean / value_sd = their mean
--        and sample standard deviation (value_sd NULL with a single value).
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels (VARCHAR[] or NULL = all).
-- The values are summed exactly (as cents: decimals need no order to add up the same, while a
-- sum of doubles depends on the order rows are scanned in, which a DuckLake store's Parquet
-- files may hold otherwise than a DuckDB file): the same leads give the same digits. The
-- standard deviation is taken from the exact sums of x and x² (x to the cent, so x² fits).
-- (An ordered avg/stddev did the same at five times the cost: a sort of every won lead.)
WITH won AS (
    SELECT l.channel, try_cast(l.value AS DECIMAL(18, 2)) AS x
    FROM leads AS l
    WHERE l.stage = 'won'
      AND l.value IS NOT NULL
      AND ($start::DATE IS NULL OR l.created_at >= $start::DATE::TIMESTAMP)
      AND ($end::DATE IS NULL OR l.created_at < ($end::DATE + 1)::TIMESTAMP)
      AND ($channels::VARCHAR[] IS NULL OR list_contains($channels::VARCHAR[], l.channel))
),
sums AS (
    SELECT channel, count(*) AS won_with_value, count(x) AS n, sum(x) AS s, sum(x * x) AS ss
    FROM won
    GROUP BY channel
)
SELECT
    channel,
    won_with_value,
    CASE WHEN n > 0 THEN s::DOUBLE / n END AS value_mean,
    CASE WHEN n > 1
         THEN sqrt(greatest(0.0, (ss::DOUBLE - s::DOUBLE * s::DOUBLE / n) / (n - 1))) END
        AS value_sd
FROM sums
ORDER BY channel;
