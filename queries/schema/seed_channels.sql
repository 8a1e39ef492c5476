-- Purpose: seed the canonical channels of SPEC 2; rows already present (and owner edits) are kept.
--          Their origin is the column's default, 'default' (named not here: a store being
--          migrated from before schema 7 is seeded before it has the column).
-- Parameters: $channels, $kinds, $labels (parallel lists).
INSERT INTO channels (channel, kind, label)
SELECT c.channel, c.kind, c.label
FROM (SELECT unnest($channels) AS channel, unnest($kinds) AS kind, unnest($labels) AS label) c
WHERE c.channel NOT IN (SELECT channel FROM channels);
