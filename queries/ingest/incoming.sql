-- Purpose: the loadable rows keyed to a lead, personal data hashed, and each row that a later
-- row of the same lead follows marked as a duplicate (merged fills that last row's empty cells
-- from them).
-- Grain: one row per typed record without a reject reason.
-- Personal data is hashed with HMAC-SHA256 (funnel.pii): hex of
-- sha256(outer_pad || sha256(inner_pad || value)), kept to 128 bits.
-- Parameters: $file_tag (identifies the file's bytes, for rows with no id, e-mail or phone);
-- $hmac_inner, $hmac_outer (BLOB pads of the key kept outside the database); $id_namespace
-- (the CRM family: ids of two different CRMs never name the same lead).
CREATE TEMP TABLE incoming AS
WITH id_kinds AS (
    -- an id that is an e-mail address or a phone number (a column like "Email ID" or
    -- "Customer ID" mapped as the id) is personal data: it keys the lead as that e-mail or
    -- phone, hashed, and is never stored as the CRM id. The cheap tests go first: most ids
    -- hold neither '@' nor a phone's '+', '(', space or '-' (1M ids: ~30 ms)
    SELECT
        t.*,
        contains(t.id, '@') AND regexp_full_match(t.id, '[^@\s]+@[^@\s]+[.][A-Za-z]+')
            AS id_is_email,
        length(t.id) >= 7
            AND (contains(t.id, '+') OR contains(t.id, '(') OR contains(t.id, ' ')
                 OR contains(t.id, '-'))
            AND regexp_full_match(t.id, '[+]?[0-9(][0-9 ().-]{5,}[0-9]') AS id_is_phone
    FROM typed_rows t
    WHERE t.reject_reason IS NULL
),
loadable AS (
    -- only the columns merged reads: a full copy of a 1M-row table costs 0.4-0.8 s of CPU
    SELECT
        t.row_number,
        CASE WHEN t.id_is_email OR t.id_is_phone THEN NULL ELSE t.id END AS id,
        t.channel_raw, t.stage_raw, t.owner, t.lost_reason, t.created_at, t.won_at,
        t.lost_at, t.closed_at, t.value, t.currency, t.converted, t.is_closed, t.status_slug,
        coalesce(t.email_raw, CASE WHEN t.id_is_email THEN t.id END) AS email_raw,
        regexp_replace(coalesce(t.phone_raw, CASE WHEN t.id_is_phone THEN t.id END),
                       '[^0-9]+', '', 'g') AS phone_digits  -- computed once
    FROM id_kinds t
),
hashed AS (
    SELECT
        l.* EXCLUDE (email_raw, phone_digits),
        CASE WHEN l.email_raw LIKE '%@%' THEN left(sha256($hmac_outer || unhex(sha256(
            $hmac_inner || encode('email:' || lower(l.email_raw))))), 32) END AS email_hash,
        CASE WHEN length(l.phone_digits) >= 6
            THEN left(sha256($hmac_outer || unhex(sha256($hmac_inner || encode(
                'phone:' || l.phone_digits)))), 32)
        END AS phone_hash
    FROM loadable l
),
known_emails AS (
    SELECT email_hash, min(lead_key) AS lead_key
    FROM leads WHERE email_hash IS NOT NULL GROUP BY email_hash
),
known_phones AS (
    SELECT phone_hash, min(lead_key) AS lead_key
    FROM leads WHERE phone_hash IS NOT NULL GROUP BY phone_hash
),
keyed AS (
    -- A row without a CRM id is the lead already stored with the same e-mail (or phone).
    SELECT
        h.*,
        coalesce('id:' || $id_namespace || ':' || h.id, ke.lead_key, 'email:' || h.email_hash, kp.lead_key,
                 'phone:' || h.phone_hash, 'row:' || $file_tag || ':' || h.row_number)
            AS lead_key
    FROM hashed h
    LEFT JOIN known_emails ke ON h.id IS NULL AND ke.email_hash = h.email_hash
    LEFT JOIN known_phones kp ON h.id IS NULL AND kp.phone_hash = h.phone_hash
)
SELECT
    k.*,
    row_number() OVER (PARTITION BY k.lead_key ORDER BY k.row_number DESC) > 1 AS is_duplicate
FROM keyed k;
