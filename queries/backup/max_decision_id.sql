-- Purpose: the highest decision number in the log (0 when empty). Grain: one row.
-- Parameters: none.
SELECT coalesce(max(decision_id), 0) AS decision_id FROM decisions;
