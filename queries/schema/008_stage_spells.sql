-- Purpose: stage_spells kept in a table (issue 18): the time-in-stage, waiting and forecast
--          queries read it on every filter change, and the view of schema/006 ran three window
--          passes over every stage event each time (seconds at a million leads).
--          funnel_spells_of(upload): the stays of the leads that have an event from upload
--            `upload` (NULL: of every lead), computed from their events exactly as the view
--            of schema/006 defined them (see there for each column). Each lead's stays depend
--            on its own events only, so a writer that adds events for some leads recomputes
--            those leads' stays (ingest/forget_spells, ingest/insert_spells); one that may
--            change any lead's events recomputes all (spells/refresh_all); a replay
--            empties the table with the events (replay/clear_uploads).
--          stage_stays: the table, filled from the events already stored by
--            funnel.store.connection.migrate (spells/refresh_all) once this is committed (a
--            lake binds a table macro only then);
--          The metric queries read stage_stays; schema/006's stage_spells view stays as the
--          definition in words (DuckLake cannot replace or drop a view made earlier in the
--          same transaction, as a new lake's migrations are).
--          Applied once by funnel.store.connection.migrate (schema version 8).
-- Grain: one row per stay of a lead in a stage. Parameters: none.

CREATE OR REPLACE MACRO funnel_spells_of(upload) AS TABLE
-- (subqueries, not WITH: duckdb 1.4 binds a macro's CTEs when a TEMP macro is made, before a
-- new lake has its tables)
SELECT
    n.lead_key,
    n.stage,
    n.occurred_at AS entered_at,
    n.all_dated AND NOT n.seen_first AND n.occurred_at IS NOT NULL AS entry_known,
    lead(n.occurred_at) OVER w AS left_at,
    n.all_dated AND lead(n.occurred_at) OVER w IS NOT NULL
        AND NOT coalesce(lead(n.seen_first) OVER w, TRUE) AS exit_known,
    lead(n.stage) OVER w AS next_stage
FROM (
    -- the first event of each run of one stage: a stay; a lead with an undated event has no
    -- known entry or exit (its events cannot be ordered)
    SELECT s.*, u.lead_key IS NULL AS all_dated
    FROM (
        -- the events of the leads touched, in time order (ties: 'new' first, then upload order)
        SELECT
            e.lead_key, e.stage, e.occurred_at, e.seen_first, e.upload_id,
            lag(e.stage) OVER (PARTITION BY e.lead_key
                               ORDER BY e.occurred_at NULLS LAST, e.stage <> 'new', e.upload_id)
                AS previous_stage
        FROM lead_events AS e
        JOIN (SELECT DISTINCT t.lead_key FROM lead_events AS t
              WHERE upload IS NULL OR t.upload_id = upload) AS touched
            ON touched.lead_key = e.lead_key
    ) AS s
    LEFT JOIN (SELECT lead_key FROM lead_events WHERE occurred_at IS NULL GROUP BY lead_key) AS u
        ON u.lead_key = s.lead_key
    WHERE s.previous_stage IS DISTINCT FROM s.stage
) AS n
WINDOW w AS (PARTITION BY n.lead_key
             ORDER BY n.occurred_at NULLS LAST, n.stage <> 'new', n.upload_id);

CREATE TABLE IF NOT EXISTS stage_stays (
    lead_key    VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,
    entered_at  TIMESTAMP,
    entry_known BOOLEAN,
    left_at     TIMESTAMP,
    exit_known  BOOLEAN,
    next_stage  VARCHAR
);
