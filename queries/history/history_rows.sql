-- Purpose: the rows of a stage history (Salesforce OpportunityHistory: deal, stage, date of the
--          change), each judged: loaded as an event of a deal already in the store, a
--          duplicate (the same deal, stage and date earlier in the file or already stored), or
--          rejected with a reason (a deal the store does not hold, no stage, no usable date).
--          The date is read from the created_at column (CreatedDate: when the change was made).
-- Grain: one row per typed row without a reject reason (incoming). Parameters: none.
CREATE TEMP TABLE history_rows AS
WITH stage_values AS (
    -- each distinct raw stage looked up once; one no synonym maps counts as 'new' (SPEC 2)
    SELECT stage_raw, coalesce(funnel_stage_of(stage_raw), 'new') AS stage
    FROM (SELECT DISTINCT stage_raw FROM incoming WHERE stage_raw IS NOT NULL)
),
judged AS (
    SELECT
        i.row_number,
        i.lead_key,
        i.id,
        sv.stage,
        i.created_at AS changed_at,
        l.lead_key IS NOT NULL AS known,
        t.created_issue,
        t.created_bad
    FROM incoming i
    LEFT JOIN stage_values sv ON sv.stage_raw = i.stage_raw
    LEFT JOIN leads l ON l.lead_key = i.lead_key
    LEFT JOIN typed_rows t ON t.row_number = i.row_number
)
SELECT
    j.row_number, j.lead_key, j.stage, j.changed_at,
    CASE
        WHEN NOT j.known
            THEN format('names deal ''{}'', which is not in the store; upload the deals '
                        || '(opportunities) first', j.id)
        WHEN j.stage IS NULL THEN 'has no stage'
        WHEN j.created_issue IS NOT NULL
            THEN format('the date of the change ''{}'' {}', j.created_bad, j.created_issue)
        WHEN j.changed_at IS NULL THEN 'has no date of the change'
    END AS reject_reason,
    row_number() OVER (PARTITION BY j.lead_key, j.stage, j.changed_at ORDER BY j.row_number) > 1
        OR EXISTS (SELECT 1 FROM lead_events e
                   WHERE e.lead_key = j.lead_key AND e.stage = j.stage
                     AND e.occurred_at = j.changed_at) AS is_duplicate
FROM judged j;
