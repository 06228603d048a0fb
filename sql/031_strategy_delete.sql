-- 031 Deleting a custom strategy. A strategy no backtest ever ran is removed with its versions; one that some
-- backtest ran is only marked deleted, because that backtest keeps pointing at the exact version it ran. A deleted
-- strategy is no longer listed or startable by name; uploading the same class name again brings it back and
-- continues its version numbers. Idempotent, like every script.
ALTER TABLE custom_strategies ADD COLUMN IF NOT EXISTS deleted_at TIMESTAMPTZ;
