-- Purpose: move the stored leads a stage synonym placed at $from_stage (their raw stage has
--          this slug and they stand there) to $stage. A lead moved gets no won or lost date it
--          did not have from the file for this stage: none (unknown stays unknown). Their
--          earlier events are kept as history. Returns one row per lead moved.
-- Parameters: $raw_slug, $from_stage, $stage.
UPDATE leads SET
    stage = $stage,
    won_at = NULL,
    lost_at = NULL
WHERE stage = $from_stage AND funnel_slug(stage_raw) = $raw_slug AND $stage <> $from_stage
RETURNING 1;
