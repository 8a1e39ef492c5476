-- Purpose: remove the stored rows of leads this upload re-states (re-inserted merged next).
DELETE FROM leads WHERE lead_key IN (SELECT lead_key FROM merged WHERE NOT is_orphan);
