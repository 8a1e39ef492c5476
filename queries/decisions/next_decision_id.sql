-- Purpose: a new decision number for the decision log.
-- Grain: one row, one column (decision_id).
-- Parameters: none.
SELECT nextval('decision_id_seq') AS decision_id;
