-- 020 The API's users, their keys and the start log behind the per-user rate limit.
-- Idempotent: every statement can run again.

-- Who may call the API. A user sees and acts on only the backtests they own (backtests.owner = user_id);
-- an admin sees all of them and may create keys.
CREATE TABLE IF NOT EXISTS api_users (
    user_id    TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Bearer keys, stored only as the hex SHA-256 of the key: keys are long random strings, so a plain hash is
-- enough to make a leaked table useless. prefix keeps the first characters to tell keys apart in listings.
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash   TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL,
    label      TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys (user_id);

-- One row per accepted start. The rate limit counts a user's rows in the last window, in PostgreSQL, so every
-- API instance enforces the same limit.
CREATE TABLE IF NOT EXISTS api_start_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    backtest_id UUID
);
CREATE INDEX IF NOT EXISTS api_start_log_user_time ON api_start_log (user_id, started_at);

-- Listings filter by owner and status or strategy and sort by them.
CREATE INDEX IF NOT EXISTS backtests_owner_status_created_at ON backtests (owner, status, created_at DESC);
CREATE INDEX IF NOT EXISTS backtests_strategy_created_at ON backtests (strategy_name, created_at DESC);
