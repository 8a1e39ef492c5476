-- Purpose: seed the canonical stages of SPEC 2 in funnel order.
-- Parameters: $stages, $positions, $temperatures, $labels (parallel lists).
INSERT INTO stages
SELECT s.stage, s.position, s.temperature, s.label
FROM (
    SELECT unnest($stages) AS stage, unnest($positions) AS position,
           unnest($temperatures) AS temperature, unnest($labels) AS label
) s
WHERE s.stage NOT IN (SELECT stage FROM stages);
