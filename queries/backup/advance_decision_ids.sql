-- Purpose: after a rebuild copied the decision log, move the decision number sequence past the
-- copied numbers (DuckDB cannot restart a sequence at a value).
-- Grain: one row. Parameters: $last (the highest copied decision_id, 0 for none).
SELECT max(nextval('decision_id_seq')) AS decision_id FROM range($last);
