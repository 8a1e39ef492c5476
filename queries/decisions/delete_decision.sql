-- Purpose: remove a decision recorded by mistake (all its channel rows).
-- Grain: deletes the rows of one decision.
-- Parameters: $decision_id (INTEGER).
DELETE FROM decisions WHERE decision_id = $decision_id::INTEGER;
