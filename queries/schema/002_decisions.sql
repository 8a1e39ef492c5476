-- Purpose: the decision log (issue 5): each allocation the owner accepted or edited in the
--          weekly meeting, stored with its forecast so later weeks can compare plan with actual
--          and score the forecast once the period's leads have had time to convert.
--          Applied once by funnel.store.migrate (schema version 2).
-- Grain: one row per decision x channel. A decision's rows share decision_id and decided_at.
--        Amounts are per week over [period_start, period_end]; planned_amount is money plus
--        hours x hourly_rate (the rate the owner set when deciding). forecast_* count the wins,
--        eventually, of the leads the channel brings in the whole period (90% interval).

CREATE SEQUENCE IF NOT EXISTS decision_id_seq START 1;

CREATE TABLE IF NOT EXISTS decisions (
    decision_id       INTEGER NOT NULL,
    decided_at        TIMESTAMP NOT NULL,
    period_start      DATE NOT NULL,
    period_end        DATE NOT NULL,
    channel           VARCHAR NOT NULL,
    planned_share     DOUBLE NOT NULL,
    planned_amount    DOUBLE NOT NULL,
    forecast_wins     DOUBLE,
    forecast_low      DOUBLE,
    forecast_high     DOUBLE,
    note              VARCHAR,
    recommended_share DOUBLE,  -- what the allocator proposed (differs when the owner edited it)
    current_share     DOUBLE,  -- the share before the decision
    planned_money     DOUBLE,  -- per week
    planned_hours     DOUBLE,  -- per week
    hourly_rate       DOUBLE,
    forecast_leads    DOUBLE,  -- expected leads in the whole period
    PRIMARY KEY (decision_id, channel)
);
