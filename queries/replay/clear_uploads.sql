-- Purpose: the first step of a replay (funnel.replay): empty what uploads wrote (leads, their
--          events and the stays kept from them, rejected rows, cell warnings, the uploads
--          themselves, and a currency the first file chose), inside the replay's transaction,
--          before every upload is ingested again in order. The owner's synonyms, spend, decisions and own settings stay.
-- Parameters: none.
DELETE FROM lead_events;
DELETE FROM stage_stays;
DELETE FROM leads;
DELETE FROM rejected_rows;
DELETE FROM cell_warnings;
DELETE FROM uploads;
DELETE FROM store_settings
WHERE key IN ('currency', 'currency_chosen_by')
  AND (SELECT value FROM store_settings WHERE key = 'currency_chosen_by') = 'first file';
