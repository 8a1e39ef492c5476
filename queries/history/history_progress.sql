-- Purpose: move on the progress (schema/003_lead_progress) of the deals a stage history named:
--          furthest_position takes the furthest stage it shows (not 'lost'); hot_since the
--          earliest change to a hot stage. A deal's current stage is not changed: the deals
--          export says where it stands now.
-- Grain: updates one row per deal named; returns nothing. Parameters: none.
UPDATE leads SET
    furthest_position = greatest(leads.furthest_position, p.position),
    hot_since = least(leads.hot_since, p.hot_since)
FROM (
    SELECT
        h.lead_key,
        max(s.position) FILTER (WHERE s.stage <> 'lost') AS position,
        min(h.changed_at) FILTER (WHERE s.temperature = 'hot') AS hot_since
    FROM history_rows h
    JOIN stages s ON s.stage = h.stage
    WHERE h.reject_reason IS NULL AND NOT h.is_duplicate
    GROUP BY h.lead_key
) AS p
WHERE leads.lead_key = p.lead_key;
