-- Purpose: what the meeting's follow-up questions need (issue 17).
--          leads.lost_reason: why a deal was lost, as the file wrote it (Pipedrive "Deal - Lost
--            reason", Salesforce "Loss_Reason__c", HubSpot "Closed Lost Reason", Zoho "Reason
--            For Loss", any column by mapping).
--          lost_reason_map: the owner's synonyms for lost reasons (raw slug -> the reason it
--            counts as), as channel_map is for channels.
--          forecasts: each forecast of wins kept, per channel, to be scored later against what
--            was won (as decisions are).
--          lead_events.seen_first: the event records the stage a lead was already in when a
--            file first showed it (or when a new stage synonym re-read it), dated when it was
--            seen there: when it entered that stage is not in the data. Backfilled: a stage
--            other than 'new' recorded by the upload that first brought the lead in.
--          stage_spells: each stay of a lead in a stage, from its events (see the view).
--          funnel_wilson_low(k, n), funnel_wilson_high(k, n): the Wilson score interval, 95%
--            (z = 1.959964), on k successes of n (NULL when n = 0).
--          Applied once by funnel.store.connection.migrate (schema version 6).
-- Grain: see each definition. Parameters: none.

ALTER TABLE leads ADD COLUMN lost_reason VARCHAR;

-- one row per raw reason slug the owner mapped
CREATE TABLE IF NOT EXISTS lost_reason_map (
    raw_slug VARCHAR PRIMARY KEY,
    reason   VARCHAR NOT NULL,
    origin   VARCHAR NOT NULL  -- 'user'
);

-- one row per forecast x channel (channel NULL: all channels); forecast_id: one more than the
-- highest before it
CREATE TABLE IF NOT EXISTS forecasts (
    forecast_id    INTEGER NOT NULL,
    made_at        TIMESTAMP NOT NULL,
    as_of          DATE NOT NULL,
    horizon        VARCHAR NOT NULL,  -- the words: 'the next 4 weeks', 'the rest of December'
    horizon_end    DATE NOT NULL,
    channel        VARCHAR,
    open_deals     BIGINT NOT NULL,
    expected_wins  DOUBLE NOT NULL,
    wins_low       DOUBLE NOT NULL,
    wins_high      DOUBLE NOT NULL,
    expected_value DOUBLE
);

ALTER TABLE lead_events ADD COLUMN seen_first BOOLEAN DEFAULT FALSE;

UPDATE lead_events AS e SET seen_first = TRUE
FROM leads AS l
WHERE l.lead_key = e.lead_key AND e.upload_id = l.first_upload_id AND e.stage <> 'new';

CREATE OR REPLACE MACRO funnel_wilson_low(k, n) AS
    CASE WHEN n > 0 THEN greatest(0.0,
        (k / n + 1.959964 * 1.959964 / (2 * n)
         - 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 * 1.959964 / (4 * n * n)))
        / (1 + 1.959964 * 1.959964 / n)) END;

CREATE OR REPLACE MACRO funnel_wilson_high(k, n) AS
    CASE WHEN n > 0 THEN least(1.0,
        (k / n + 1.959964 * 1.959964 / (2 * n)
         + 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 * 1.959964 / (4 * n * n)))
        / (1 + 1.959964 * 1.959964 / n)) END;

-- One row per stay of a lead in a stage: its events in time order (ties: 'new' first, then
-- upload order), a run of events of one stage being one stay.
--   entered_at: when the stay began as the events date it; entry_known: that date is when the
--     lead entered the stage (its created date for 'new', a change seen between two uploads
--     or dated by the file or a stage history), not when a file first showed it there;
--   left_at: when the next stay began (NULL for the lead's current stay); exit_known: that
--     date is when the lead left (the next stay's entry is known);
--   next_stage: where it went (NULL: still there);
--   A lead with an undated event has no known entry or exit: its events cannot be ordered.
CREATE OR REPLACE VIEW stage_spells AS
WITH ordered AS (
    SELECT
        e.lead_key, e.stage, e.occurred_at, e.seen_first,
        row_number() OVER (PARTITION BY e.lead_key
                           ORDER BY e.occurred_at NULLS LAST, e.stage <> 'new', e.upload_id)
            AS seq,
        count(*) FILTER (WHERE e.occurred_at IS NULL) OVER (PARTITION BY e.lead_key)
            AS undated
    FROM lead_events AS e
),
stays AS (
    SELECT o.*, lag(o.stage) OVER (PARTITION BY o.lead_key ORDER BY o.seq) AS previous_stage
    FROM ordered AS o
),
entries AS (
    SELECT * FROM stays WHERE previous_stage IS DISTINCT FROM stage
)
SELECT
    n.lead_key,
    n.stage,
    n.occurred_at AS entered_at,
    n.undated = 0 AND NOT n.seen_first AND n.occurred_at IS NOT NULL AS entry_known,
    lead(n.occurred_at) OVER w AS left_at,
    n.undated = 0 AND lead(n.occurred_at) OVER w IS NOT NULL
        AND NOT coalesce(lead(n.seen_first) OVER w, TRUE) AS exit_known,
    lead(n.stage) OVER w AS next_stage
FROM entries AS n
WINDOW w AS (PARTITION BY n.lead_key ORDER BY n.seq);
