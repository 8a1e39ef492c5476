-- Purpose: seed the canonical channels of SPEC 2; rows already present (and owner edits) are kept.
-- Parameters: $channels, $kinds, $labels (parallel lists).
INSERT INTO channels
SELECT c.channel, c.kind, c.label
FROM (SELECT unnest($channels) AS channel, unnest($kinds) AS kind, unnest($labels) AS label) c
WHERE c.channel NOT IN (SELECT channel FROM channels);
