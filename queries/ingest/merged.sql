-- Purpose: each incoming lead merged with what the store already holds: an empty cell keeps the
-- stored value, the stage follows SPEC 2 and 3 (status > converted > closed flag > stage >
-- won/lost dates; a yes/no outcome alone: "no" is lost unless the owner said "still open"),
-- the created date keeps the earliest seen. Unknown stays unknown (SPEC 3): a won or lost lead
-- whose file gives no won, lost or close date has no won_at / lost_at, unless it was known to
-- be in another stage before this upload and the upload has an as-of date (two snapshots date
-- the change); an outcome date before the lead's created day, or a close date after the upload
-- day, is not stored (dropped_outcome_* say which and why, for a cell warning). Money: amount and currency as given; value = the amount when its currency is
-- the store's (or unnamed), what every money sum reads.
-- The lead's progress (schema/003_lead_progress) moves on with the stage event insert_events
-- appends when the stage changed: furthest_position takes the new stage's position unless
-- lost; hot_since the event's date if the new stage is hot and the lead was never seen hot
-- before. stage_event_at is that event's date (NULL when the stage did not change, or when it
-- changed to won/lost on a day the file does not give); it must stay the date insert_events
-- gives the event.
-- A lead named on several rows of the file is merged cell by cell first: the last row counts
-- (SPEC 3), and each of its empty cells takes the latest earlier row's non-empty value, as if
-- the rows had come in one upload after another (an empty cell leaves what is known as it was).
-- Grain: one row per distinct incoming lead.
-- Parameters: $as_of (TIMESTAMP, or NULL when neither the options nor the file give one),
--             $upload_day (DATE), $has_stage (a stage, status or closed-flag column or --set is
--             mapped), $no_means_lost (the file's only outcome is a yes/no column and "no" means
--             lost), $store_currency (VARCHAR or NULL: the currency money sums are in).
CREATE TEMP TABLE merged AS
WITH earlier_rows AS (
    -- the cells of the rows a later row of the same lead makes duplicates (few, or none): the
    -- latest non-empty value per column
    SELECT
        lead_key,
        arg_max(id, row_number) FILTER (WHERE id IS NOT NULL) AS id,
        arg_max(channel_raw, row_number) FILTER (WHERE channel_raw IS NOT NULL) AS channel_raw,
        arg_max(stage_raw, row_number) FILTER (WHERE stage_raw IS NOT NULL) AS stage_raw,
        arg_max(owner, row_number) FILTER (WHERE owner IS NOT NULL) AS owner,
        arg_max(lost_reason, row_number) FILTER (WHERE lost_reason IS NOT NULL) AS lost_reason,
        arg_max(created_at, row_number) FILTER (WHERE created_at IS NOT NULL) AS created_at,
        arg_max(won_at, row_number) FILTER (WHERE won_at IS NOT NULL) AS won_at,
        arg_max(lost_at, row_number) FILTER (WHERE lost_at IS NOT NULL) AS lost_at,
        arg_max(closed_at, row_number) FILTER (WHERE closed_at IS NOT NULL) AS closed_at,
        arg_max(value, row_number) FILTER (WHERE value IS NOT NULL) AS value,
        arg_max(converted, row_number) FILTER (WHERE converted IS NOT NULL) AS converted,
        arg_max(is_closed, row_number) FILTER (WHERE is_closed IS NOT NULL) AS is_closed,
        arg_max(currency, row_number) FILTER (WHERE currency IS NOT NULL) AS currency,
        arg_max(status_slug, row_number) FILTER (WHERE status_slug IS NOT NULL) AS status_slug,
        arg_max(email_hash, row_number) FILTER (WHERE email_hash IS NOT NULL) AS email_hash,
        arg_max(phone_hash, row_number) FILTER (WHERE phone_hash IS NOT NULL) AS phone_hash
    FROM incoming
    WHERE is_duplicate
    GROUP BY lead_key
),
lead_rows AS (
    -- one row per lead: its last row, empty cells filled from its earlier rows
    SELECT
        i.* REPLACE (
            coalesce(i.id, e.id) AS id,
            coalesce(i.channel_raw, e.channel_raw) AS channel_raw,
            coalesce(i.stage_raw, e.stage_raw) AS stage_raw,
            coalesce(i.owner, e.owner) AS owner,
            coalesce(i.lost_reason, e.lost_reason) AS lost_reason,
            coalesce(i.created_at, e.created_at) AS created_at,
            coalesce(i.won_at, e.won_at) AS won_at,
            coalesce(i.lost_at, e.lost_at) AS lost_at,
            coalesce(i.closed_at, e.closed_at) AS closed_at,
            coalesce(i.value, e.value) AS value,
            coalesce(i.converted, e.converted) AS converted,
            coalesce(i.is_closed, e.is_closed) AS is_closed,
            coalesce(i.currency, e.currency) AS currency,
            coalesce(i.status_slug, e.status_slug) AS status_slug,
            coalesce(i.email_hash, e.email_hash) AS email_hash,
            coalesce(i.phone_hash, e.phone_hash) AS phone_hash
        )
    FROM incoming i
    LEFT JOIN earlier_rows e ON e.lead_key = i.lead_key
    WHERE NOT i.is_duplicate
),
-- each distinct raw value is looked up once, not once per row (funnel_channel_of: the owner's
-- synonyms and the defaults, else the value's own slug)
channel_values AS (
    SELECT channel_raw, funnel_channel_of(channel_raw) AS channel_of
    FROM (SELECT DISTINCT channel_raw FROM incoming WHERE channel_raw IS NOT NULL)
),
stage_values AS (
    SELECT stage_raw, funnel_stage_of(stage_raw) AS stage_mapped
    FROM (SELECT DISTINCT stage_raw FROM incoming WHERE stage_raw IS NOT NULL)
),
joined AS (
    SELECT
        i.*,
        cv.channel_of,
        sv.stage_mapped,
        l.lead_key IS NOT NULL AS existed,
        l.crm_id AS old_crm_id, l.channel AS old_channel, l.channel_raw AS old_channel_raw,
        l.created_at AS old_created_at, l.stage AS old_stage, l.stage_raw AS old_stage_raw,
        l.won_at AS old_won_at, l.lost_at AS old_lost_at, l.amount AS old_amount,
        l.currency AS old_currency,
        l.owner AS old_owner, l.lost_reason AS old_lost_reason, l.email_hash AS old_email_hash, l.phone_hash AS old_phone_hash,
        l.first_upload_id AS old_first_upload_id,
        l.furthest_position AS old_furthest_position, l.hot_since AS old_hot_since
    FROM lead_rows i
    LEFT JOIN leads l ON l.lead_key = i.lead_key
    LEFT JOIN channel_values cv ON cv.channel_raw = i.channel_raw
    LEFT JOIN stage_values sv ON sv.stage_raw = i.stage_raw
),
staged_stage AS (
    SELECT
        j.*,
        CASE
            WHEN j.status_slug IN ('won', 'lost') THEN j.status_slug
            WHEN j.converted THEN 'won'
            WHEN j.is_closed AND NOT j.converted THEN 'lost'
            WHEN $no_means_lost AND NOT j.converted THEN 'lost'
            WHEN j.stage_raw IS NOT NULL AND j.stage_mapped IS NOT NULL
                 AND NOT coalesce((j.status_slug = 'open' OR NOT j.is_closed)
                                  AND j.stage_mapped IN ('won', 'lost'), FALSE)
                THEN j.stage_mapped
            WHEN j.stage_raw IS NOT NULL THEN 'new'
            WHEN (j.status_slug = 'open' OR NOT j.is_closed) AND j.old_stage IN ('won', 'lost')
                THEN 'new'
            WHEN NOT $has_stage AND j.won_at IS NOT NULL THEN 'won'
            WHEN NOT $has_stage AND j.lost_at IS NOT NULL THEN 'lost'
            ELSE coalesce(j.old_stage, 'new')
        END AS new_stage
    FROM joined j
),
dated AS (
    -- the outcome date this upload gives (a close date only closes a won or lost lead: on an
    -- open deal it is the date it is expected to close), and the lead's created date
    SELECT
        s.*,
        CASE WHEN s.existed THEN least(s.old_created_at, coalesce(s.created_at, s.old_created_at))
             ELSE s.created_at END AS lead_created_at,
        CASE s.new_stage WHEN 'won' THEN coalesce(s.won_at, s.closed_at)
                         WHEN 'lost' THEN coalesce(s.lost_at, s.closed_at) END AS outcome_at,
        CASE s.new_stage
            WHEN 'won' THEN CASE WHEN s.won_at IS NOT NULL THEN 'won_at' ELSE 'closed_at' END
            WHEN 'lost' THEN CASE WHEN s.lost_at IS NOT NULL THEN 'lost_at' ELSE 'closed_at' END
        END AS outcome_field
    FROM staged_stage s
),
checked AS (
    -- an outcome date is kept when it lies on or after the lead's created day and on or before
    -- the upload day (the day after, for time zones ahead: see funnel_date_issue)
    SELECT
        d.*,
        CASE WHEN d.outcome_at::DATE < d.lead_created_at::DATE
                 THEN 'is before the day the lead came in ('
                      || strftime(d.lead_created_at, '%-d %b %Y') || ')'
             WHEN d.outcome_at::DATE > $upload_day::DATE + 1
                 THEN 'is after the day the file was uploaded ('
                      || strftime($upload_day::DATE, '%-d %b %Y') || ')'
        END AS dropped_outcome_reason
    FROM dated d
),
restated AS (
    SELECT
        s.lead_key,
        s.row_number,
        s.existed,
        NOT s.existed AND s.created_at IS NULL AS is_orphan,
        s.old_stage,
        coalesce(s.id, s.old_crm_id) AS crm_id,
        CASE
            WHEN s.channel_raw IS NOT NULL THEN s.channel_of
            ELSE coalesce(s.old_channel, 'unknown')
        END AS channel,
        coalesce(s.channel_raw, s.old_channel_raw) AS channel_raw,
        s.lead_created_at AS created_at,
        s.new_stage AS stage,
        coalesce(s.stage_raw, s.old_stage_raw) AS stage_raw,
        CASE WHEN s.new_stage = 'won' THEN coalesce(
            CASE WHEN s.dropped_outcome_reason IS NULL THEN s.outcome_at END,
            CASE WHEN s.old_stage = 'won' THEN s.old_won_at END,
            CASE WHEN s.existed AND s.old_stage <> 'won' THEN $as_of END)
        END AS won_at,
        CASE WHEN s.new_stage = 'lost' THEN coalesce(
            CASE WHEN s.dropped_outcome_reason IS NULL THEN s.outcome_at END,
            CASE WHEN s.old_stage = 'lost' THEN s.old_lost_at END,
            CASE WHEN s.existed AND s.old_stage <> 'lost' THEN $as_of END)
        END AS lost_at,
        CASE WHEN s.dropped_outcome_reason IS NOT NULL THEN s.outcome_at END
            AS dropped_outcome_at,
        CASE WHEN s.dropped_outcome_reason IS NOT NULL THEN s.outcome_field END
            AS dropped_outcome_field,
        s.dropped_outcome_reason,
        coalesce(s.value, s.old_amount) AS amount,
        CASE WHEN s.value IS NOT NULL THEN s.currency ELSE s.old_currency END AS currency,
        coalesce(s.owner, s.old_owner) AS owner,
        coalesce(s.lost_reason, s.old_lost_reason) AS lost_reason,
        coalesce(s.email_hash, s.old_email_hash) AS email_hash,
        coalesce(s.phone_hash, s.old_phone_hash) AS phone_hash,
        s.old_first_upload_id AS first_upload_id,
        s.old_furthest_position,
        s.old_hot_since
    FROM checked s
),
stage_event AS (
    SELECT
        r.*,
        CASE WHEN r.stage IS DISTINCT FROM coalesce(r.old_stage, 'new') THEN
            CASE r.stage WHEN 'won' THEN r.won_at WHEN 'lost' THEN r.lost_at
                         -- seen at it on the as-of date (no date, when the upload has none)
                         ELSE CASE WHEN $as_of IS NOT NULL
                                   THEN greatest($as_of, r.created_at) END END
        END AS stage_event_at
    FROM restated r
)
SELECT
    e.lead_key, e.row_number, e.existed, e.is_orphan, e.old_stage, e.crm_id, e.channel,
    e.channel_raw, e.created_at, e.stage, e.stage_raw, e.won_at, e.lost_at, e.amount,
    e.currency,
    CASE WHEN e.currency IS NULL OR e.currency = coalesce($store_currency, e.currency)
         THEN e.amount END AS value,
    e.owner, e.lost_reason, e.email_hash, e.phone_hash, e.first_upload_id,
    greatest(coalesce(e.old_furthest_position, 1),
             CASE WHEN st.stage <> 'lost' THEN st.position END) AS furthest_position,
    CASE WHEN st.temperature = 'hot' THEN least(e.old_hot_since, e.stage_event_at)
         ELSE e.old_hot_since END AS hot_since,
    e.stage_event_at,
    e.dropped_outcome_at,
    e.dropped_outcome_field,
    e.dropped_outcome_reason
FROM stage_event e
LEFT JOIN stages st ON st.stage = e.stage;
