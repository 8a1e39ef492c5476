-- Purpose: stage_spells kept as a table (issue 18): the time-in-stage, waiting and forecast
--          queries read it on every filter change, and the view of schema/006 ran three window
--          passes over every stage event each time (seconds at a million leads).
--          funnel_spells_of(upload): the stays of the leads that have an event from upload
--            `upload` (NULL: of every lead), computed from their events exactly as the view
--            of schema/006 defined them (see there for each column). Each lead's stays depend
--            on its own events only, so a writer that adds events for some leads recomputes
--            those leads' stays (ingest/forget_spells, ingest/insert_spells); one that may
--            change any lead's events recomputes all (spells/refresh_all); a replay
--            empties the table with the events (replay/clear_uploads).
--          stage_spells: the table, filled here from the events already stored.
--          Applied once by funnel.store.connection.migrate (schema version 8).
-- Grain: one row per stay of a lead in a stage. Parameters: none.

DROP VIEW IF EXISTS stage_spells;

CREATE OR REPLACE MACRO funnel_spells_of(upload) AS TABLE
WITH events AS (
    SELECT e.lead_key, e.stage, e.occurred_at, e.seen_first, e.upload_id
    FROM lead_events AS e
    WHERE upload IS NULL
       OR e.lead_key IN (SELECT t.lead_key FROM lead_events AS t WHERE t.upload_id = upload)
),
-- a lead with an undated event has no known entry or exit: its events cannot be ordered
undated AS (
    SELECT lead_key FROM events WHERE occurred_at IS NULL GROUP BY lead_key
),
-- events in time order (ties: 'new' first, then upload order); a run of one stage is one stay
stays AS (
    SELECT
        v.lead_key, v.stage, v.occurred_at, v.seen_first, v.upload_id,
        lag(v.stage) OVER (PARTITION BY v.lead_key
                           ORDER BY v.occurred_at NULLS LAST, v.stage <> 'new', v.upload_id)
            AS previous_stage
    FROM events AS v
),
entries AS (
    SELECT s.*, u.lead_key IS NULL AS all_dated
    FROM stays AS s
    LEFT JOIN undated AS u ON u.lead_key = s.lead_key
    WHERE s.previous_stage IS DISTINCT FROM s.stage
)
SELECT
    n.lead_key,
    n.stage,
    n.occurred_at AS entered_at,
    n.all_dated AND NOT n.seen_first AND n.occurred_at IS NOT NULL AS entry_known,
    lead(n.occurred_at) OVER w AS left_at,
    n.all_dated AND lead(n.occurred_at) OVER w IS NOT NULL
        AND NOT coalesce(lead(n.seen_first) OVER w, TRUE) AS exit_known,
    lead(n.stage) OVER w AS next_stage
FROM entries AS n
WINDOW w AS (PARTITION BY n.lead_key
             ORDER BY n.occurred_at NULLS LAST, n.stage <> 'new', n.upload_id);

CREATE TABLE IF NOT EXISTS stage_spells (
    lead_key    VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,
    entered_at  TIMESTAMP,
    entry_known BOOLEAN,
    left_at     TIMESTAMP,
    exit_known  BOOLEAN,
    next_stage  VARCHAR
);

INSERT INTO stage_spells SELECT * FROM funnel_spells_of(NULL);
