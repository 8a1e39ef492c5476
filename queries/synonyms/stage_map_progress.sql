-- Purpose: move on the progress (schema/003_lead_progress) of the leads a stage synonym
-- re-mapped, after synonyms/stage_map_events gave them an event at their new stage:
-- furthest_position takes that stage's position unless it is 'lost'; hot_since the earliest
-- of their events at it if the stage is hot.
-- Grain: updates the leads at $stage whose raw stage slugs to $raw_slug (for one already
-- there, nothing changes); returns nothing. Parameters: $raw_slug, $stage.
UPDATE leads SET
    furthest_position = greatest(
        leads.furthest_position, CASE WHEN s.stage <> 'lost' THEN s.position END),
    hot_since = CASE WHEN s.temperature = 'hot' THEN least(
        leads.hot_since,
        (SELECT min(e.occurred_at) FROM lead_events AS e
         WHERE e.lead_key = leads.lead_key AND e.stage = $stage)) ELSE leads.hot_since END
FROM stages AS s
WHERE s.stage = $stage AND leads.stage = $stage AND funnel_slug(leads.stage_raw) = $raw_slug;
