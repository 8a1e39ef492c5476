-- Purpose: what the selected leads' files hold, so a page shows only what the data holds (SPEC 3
--          "unknown stays unknown"): how many leads have a stage from a stage column or were
--          seen past 'new' (without either there is no stage funnel to draw), how many wins
--          have a known won date (time to win is measured on those alone), how many won deals
--          carry a value, and how many leads' money is in another currency than the store's.
-- Grain: one row.
-- Parameters: $start, $end (DATE or NULL = unbounded; created_at::DATE inclusive),
--             $channels, $owners (VARCHAR[] or NULL = all).
SELECT
    count(*) AS leads,
    -- seen at contacted, qualified or proposal (won and lost alone are outcomes, not stages)
    count(*) FILTER (WHERE l.stage_raw IS NOT NULL OR l.furthest_position BETWEEN 2 AND 4)
        AS with_stages,
    count(*) FILTER (WHERE l.stage = 'won') AS won,
    count(*) FILTER (WHERE l.stage = 'won' AND l.won_at IS NOT NULL) AS won_dated,
    count(*) FILTER (WHERE l.stage = 'won' AND l.value IS NOT NULL) AS won_valued,
    count(*) FILTER (WHERE l.amount IS NOT NULL AND l.value IS NULL) AS other_currency
FROM selected_leads($start, $end, $channels, $owners) AS l;
