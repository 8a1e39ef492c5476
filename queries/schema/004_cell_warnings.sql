-- Purpose: what real exports need (issue 12, SPEC 3): cells that could not be read are warnings,
--          not lost rows; unknown dates stay unknown; money keeps its currency.
--          cell_warnings: one row per cell that was read as unknown (row, column, value, reason)
--            while its row loaded.
--          leads.amount / leads.currency: the deal value as the file gave it and its currency
--            (NULL when the file names none); leads.value stays what money sums read: the
--            amount when it is in the store's currency (or names none), else NULL.
--          lead_events.occurred_at may be NULL: a lead first seen already won, in a file that
--            gives no won date, entered 'won' on a day nobody knows.
--          uploads.rows_warned: how many cell warnings the upload gave.
--          store_settings: the store's own settings (its currency, and who chose it).
--          Applied once by funnel.store.migrate (schema version 4).
-- Grain: see each table's comment. Parameters: none.

-- one row per cell read as unknown in a row that loaded
CREATE TABLE IF NOT EXISTS cell_warnings (
    upload_id   INTEGER NOT NULL,
    row_number  BIGINT NOT NULL,
    column_name VARCHAR NOT NULL,
    value       VARCHAR,
    reason      VARCHAR NOT NULL
);

-- one row per setting
CREATE TABLE IF NOT EXISTS store_settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

ALTER TABLE leads ADD COLUMN amount DOUBLE;
ALTER TABLE leads ADD COLUMN currency VARCHAR;
UPDATE leads SET amount = value;

ALTER TABLE lead_events ALTER COLUMN occurred_at DROP NOT NULL;

ALTER TABLE uploads ADD COLUMN rows_warned BIGINT DEFAULT 0;
UPDATE uploads SET rows_warned = 0;

-- a cell as a value: NULL when empty or when it says "no value" (SPEC 3)
CREATE OR REPLACE MACRO funnel_cell(x) AS
    CASE WHEN length(x) <= 7 AND lower(x) IN ('', 'n/a', 'na', '#n/a', '-', '--', 'null', 'none',
                                              '(blank)')
         THEN NULL ELSE x END;

-- why a date cell cannot be used, or NULL when it can (or is empty): no date, a year before
-- 1900 (a two-digit year read as year 26), or after the day the file was uploaded. That day
-- ends where the day ends last on Earth: an export in UTC taken on a US evening holds
-- leads created "tomorrow", so a date on the day after the upload day still counts.
CREATE OR REPLACE MACRO funnel_date_issue(raw, parsed, upload_day) AS
    CASE WHEN raw IS NULL THEN NULL
         WHEN parsed IS NULL THEN 'is not a date'
         WHEN year(parsed) < 1900 THEN 'has a year before 1900'
         WHEN parsed::DATE > upload_day + 1
             THEN 'is after the day the file was uploaded (' || strftime(upload_day, '%-d %b %Y')
                  || ')'
    END;

-- the store's as-of date: the latest as-of of an upload that loaded rows (a snapshot's date),
-- else the latest created, won or lost date of its leads; NULL on an empty store. The one
-- definition every query that ages or censors leads reads.
CREATE OR REPLACE MACRO funnel_as_of() AS coalesce(
    (SELECT max(as_of) FROM uploads WHERE rows_loaded > 0),
    (SELECT greatest(max(created_at)::DATE, max(won_at)::DATE, max(lost_at)::DATE) FROM leads)
);

-- the canonical stage a raw stage value maps to (the owner's synonyms and the defaults), or
-- NULL when none does: its slug, else its slug with the underscores dropped (`ClosedWon` is
-- `closed won`). Meant for distinct values: it looks the map up once per call.
CREATE OR REPLACE MACRO funnel_stage_of(raw) AS coalesce(
    (SELECT min(sm.stage) FROM stage_map sm WHERE sm.raw_slug = funnel_slug(raw)),
    (SELECT min(sm.stage) FROM stage_map sm
     WHERE replace(sm.raw_slug, '_', '') = replace(funnel_slug(raw), '_', ''))
);
