-- Purpose: keep each lead's progress on the lead (issue 7, docs/PERFORMANCE.md gap 4, fixes 1
--          and 5), so the funnel and the weekly hot list stop grouping every lead_events row:
--          furthest_position: the highest stages.position among the lead's events other than
--            'lost' and its current stage unless lost; 1 (new) at least. What
--            metrics/funnel_by_channel counts as the furthest stage reached.
--          hot_since: when the lead was first seen at a hot stage (the earliest of its events at
--            a stage whose temperature is 'hot'); NULL if never. What weekly/oldest_hot_leads
--            shows as "first seen hot".
--          Both are backfilled here from lead_events, then kept up to date by every write:
--          ingest/merged (+ insert_leads) and synonyms/stage_map_progress.
--          Applied once by funnel.store.migrate (schema version 3).
-- Grain: the leads table, one row per lead. Parameters: none.

-- NOT NULL before the backfill: DuckDB cannot add the constraint once the transaction holds
-- updates. Old rows read 1 until the UPDATE below.
ALTER TABLE leads ADD COLUMN furthest_position INTEGER DEFAULT 1;
ALTER TABLE leads ALTER COLUMN furthest_position SET NOT NULL;
ALTER TABLE leads ADD COLUMN hot_since TIMESTAMP;

UPDATE leads SET furthest_position = p.furthest_position, hot_since = p.hot_since
FROM (
    SELECT
        l.lead_key,
        greatest(1, coalesce(e.position, 1), coalesce(cur.position, 1)) AS furthest_position,
        e.hot_since
    FROM leads AS l
    LEFT JOIN (
        SELECT
            ev.lead_key,
            max(s.position) FILTER (WHERE s.stage <> 'lost') AS position,
            min(ev.occurred_at) FILTER (WHERE s.temperature = 'hot') AS hot_since
        FROM lead_events AS ev
        JOIN stages AS s ON s.stage = ev.stage
        GROUP BY ev.lead_key
    ) AS e ON e.lead_key = l.lead_key
    LEFT JOIN stages AS cur ON cur.stage = l.stage AND cur.stage <> 'lost'
) AS p
WHERE leads.lead_key = p.lead_key;
