-- Purpose: seed the default channel synonyms of SPEC 2; owner edits are kept.
-- Parameters: $raw_slugs, $targets (parallel lists).
INSERT INTO channel_map
SELECT m.raw_slug, m.target, 'default'
FROM (SELECT unnest($raw_slugs) AS raw_slug, unnest($targets) AS target) m
WHERE m.raw_slug NOT IN (SELECT raw_slug FROM channel_map);
