-- 030 Custom strategies: C# sources uploaded by their owners, kept as immutable numbered versions, and the
-- exact version each backtest ran. Idempotent, like every script.

-- One row per owner and strategy class name; the id stays the same across versions.
CREATE TABLE IF NOT EXISTS custom_strategies (
    strategy_id UUID PRIMARY KEY,
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL, -- the strategy's class name, what a config names in strategyClass
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (owner, name)
);

-- Every version ever uploaded, never changed: a backtest that ran version n can always be re-run exactly.
-- content_hash is the compiler's source hash (SHA-256 of the source with \n line endings); schema is the
-- parameter schema derived from the class, in the same shape as the templates'.
CREATE TABLE IF NOT EXISTS custom_strategy_versions (
    strategy_id  UUID NOT NULL REFERENCES custom_strategies (strategy_id) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    source       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    schema       JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (strategy_id, version)
);

-- The version a backtest ran; null for the templates.
ALTER TABLE backtests ADD COLUMN IF NOT EXISTS strategy_id UUID;
ALTER TABLE backtests ADD COLUMN IF NOT EXISTS strategy_version INTEGER;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'backtests_strategy_version_fk') THEN
        -- A version that a backtest ran cannot be deleted from under it.
        ALTER TABLE backtests ADD CONSTRAINT backtests_strategy_version_fk
            FOREIGN KEY (strategy_id, strategy_version) REFERENCES custom_strategy_versions (strategy_id, version);
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS backtests_strategy ON backtests (strategy_id, strategy_version) WHERE strategy_id IS NOT NULL;
