-- 040 Optimization jobs and their trials (issue: a parameter search is one job, run in warm batches).
-- A trial row is keyed by (job, trial number) and written with ON CONFLICT DO NOTHING: a batch resumed after a
-- killed worker may print again trials it had printed before its checkpoint reached disk, and each is stored once.

CREATE TABLE IF NOT EXISTS optimizations (
    optimization_id UUID PRIMARY KEY,
    owner           TEXT NOT NULL,
    name            TEXT,
    -- The job's request as accepted: base config, parameter space, method, objective, constraints, seed.
    configuration   JSONB NOT NULL,
    status          VARCHAR(50) NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 0,
    trials_planned  INTEGER NOT NULL CHECK (trials_planned >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at      TIMESTAMPTZ,
    completed_at    TIMESTAMPTZ,
    error_message   TEXT
);
CREATE INDEX IF NOT EXISTS optimizations_owner_created_at ON optimizations (owner, created_at DESC);
CREATE INDEX IF NOT EXISTS optimizations_status_created_at ON optimizations (status, created_at DESC);

CREATE TABLE IF NOT EXISTS optimization_trials (
    optimization_id   UUID NOT NULL REFERENCES optimizations (optimization_id) ON DELETE CASCADE,
    trial_number      INTEGER NOT NULL CHECK (trial_number >= 0),
    parameters        JSONB NOT NULL,
    -- Every metric of the run's metrics object; null when the trial never ran (infeasible before the run).
    metrics           JSONB,
    -- The job's objective for this trial as the job ranks it; null when infeasible or undefined.
    objective         DOUBLE PRECISION,
    feasible          BOOLEAN NOT NULL,
    infeasible_reason TEXT,
    total_trades      INTEGER,
    content_hash      TEXT,
    -- The trial's daily returns as little-endian float32, for the overfitting statistics' T x N matrix.
    daily_returns     BYTEA,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (optimization_id, trial_number)
);
CREATE INDEX IF NOT EXISTS optimization_trials_objective ON optimization_trials (optimization_id, objective DESC) WHERE feasible;
