-- Purpose: what the weekly pack needs to pick and bound weeks: the first lead's created date
--          (weeks before it have no data, they are not "zero leads") and the last one.
-- Grain: one row (both NULL on an empty store).
-- Parameters: none.
SELECT
    min(created_at)::DATE AS first_created,
    max(created_at)::DATE AS last_created
FROM leads;
