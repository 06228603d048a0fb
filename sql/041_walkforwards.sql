-- 041 Walk-forward jobs (issue 16 §2): one row per job; its windows' in-sample optimizations are rows of
-- optimizations and its out-of-sample runs rows of backtests, under ids derived from the job's id and the window.
-- The grain keeps the windows' progress; once complete, the stitched result is stored here once, as JSON.

CREATE TABLE IF NOT EXISTS walkforwards (
    walkforward_id  UUID PRIMARY KEY,
    owner           TEXT NOT NULL,
    name            TEXT,
    -- The job as accepted: the optimization's fields plus validation {inSample, outOfSample, step, anchored}.
    configuration   JSONB NOT NULL,
    status          VARCHAR(50) NOT NULL,
    windows_planned INTEGER NOT NULL CHECK (windows_planned >= 1),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at      TIMESTAMPTZ,
    completed_at    TIMESTAMPTZ,
    error_message   TEXT,
    -- Every window (dates, chosen parameters, in- and out-of-sample metrics) and the stitched summary; null until complete.
    result          JSONB
);
CREATE INDEX IF NOT EXISTS walkforwards_owner_created_at ON walkforwards (owner, created_at DESC);
