-- Purpose: what a spend file loads: rows counted, the channel and period pairs they make (rows
--          of one pair are added up), the money and hours in all, and whether its periods are
--          months. Grain: one row. Parameters: none (reads spend_typed).
SELECT count(*) AS rows_loaded,
       count(DISTINCT (channel, period_start)) AS periods,
       sum(try_cast(money AS DECIMAL(38, 6)))::DOUBLE AS money,
       sum(try_cast(hours AS DECIMAL(38, 6)))::DOUBLE AS hours,
       coalesce(bool_or(is_month), FALSE) AS monthly
FROM spend_typed WHERE reject_reason IS NULL;
