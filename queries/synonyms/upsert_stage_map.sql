-- Purpose: the owner's synonym for a raw stage slug. Parameters: $raw_slug, $stage.
INSERT OR REPLACE INTO stage_map VALUES ($raw_slug, $stage, 'user');
