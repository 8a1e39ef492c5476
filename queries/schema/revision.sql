-- Purpose: the store's revision, bumped by every write; caches key on it. Grain: one row.
SELECT coalesce(max(revision), 0) AS revision FROM store_revision;
