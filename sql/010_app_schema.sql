-- 010 The application's tables: backtests, their results, trades, equity, orders, checkpoints and status
-- history. Starts from the seed's tables (same names and columns) and adds what the results need.
-- Idempotent: every statement can run again, also over a database that already has the seed's tables.

-- Which numbered scripts have been applied (SchemaMigrator writes a row after each one).
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    script     TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The seed's table.
CREATE TABLE IF NOT EXISTS backtests (
    backtest_id   UUID PRIMARY KEY,
    strategy_name VARCHAR(255),
    configuration JSONB,
    start_date    TIMESTAMPTZ,
    end_date      TIMESTAMPTZ,
    status        VARCHAR(50),
    created_at    TIMESTAMPTZ DEFAULT now(),
    completed_at  TIMESTAMPTZ,
    progress      DECIMAL(5, 2), -- percent, 0..100
    error_message TEXT
);
-- Added: who submitted it, its queue priority (higher first) and the engine's content hash (SHA-256 of
-- the normalized config, data version and engine version), so an identical run can reuse stored results.
ALTER TABLE backtests ADD COLUMN IF NOT EXISTS owner TEXT NOT NULL DEFAULT 'local';
ALTER TABLE backtests ADD COLUMN IF NOT EXISTS priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backtests ADD COLUMN IF NOT EXISTS content_hash TEXT;

CREATE INDEX IF NOT EXISTS backtests_content_hash ON backtests (content_hash) WHERE content_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS backtests_created_at ON backtests (created_at DESC);
CREATE INDEX IF NOT EXISTS backtests_owner_created_at ON backtests (owner, created_at DESC);
CREATE INDEX IF NOT EXISTS backtests_status_created_at ON backtests (status, created_at DESC);

-- The seed's table: one JSON document per result type ('summary', 'metrics', 'benchmark', ...).
CREATE TABLE IF NOT EXISTS backtest_results (
    backtest_id UUID REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    result_type VARCHAR(50),
    result_data JSONB,
    created_at  TIMESTAMPTZ DEFAULT now()
);
-- Added: at most one document per type and backtest.
CREATE UNIQUE INDEX IF NOT EXISTS backtest_results_type ON backtest_results (backtest_id, result_type);

-- The seed's table: closed trades. trade_id is derived from (backtest_id, trade number), so saving the
-- same results twice can never duplicate a trade. Prices and amounts keep 8 decimals.
CREATE TABLE IF NOT EXISTS backtest_trades (
    trade_id      UUID PRIMARY KEY,
    backtest_id   UUID REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    instrument_id VARCHAR(255),
    side          VARCHAR(10),
    quantity      DECIMAL(20, 8),
    entry_price   DECIMAL(20, 8),
    exit_price    DECIMAL(20, 8),
    entry_time    TIMESTAMPTZ,
    exit_time     TIMESTAMPTZ,
    pnl           DECIMAL(20, 8),
    commission    DECIMAL(20, 8)
);
-- Added: the engine's trade number and the rest of a trade's figures.
ALTER TABLE backtest_trades ADD COLUMN IF NOT EXISTS trade_number INTEGER;
ALTER TABLE backtest_trades ADD COLUMN IF NOT EXISTS return_pct DOUBLE PRECISION;
ALTER TABLE backtest_trades ADD COLUMN IF NOT EXISTS mae DOUBLE PRECISION;
ALTER TABLE backtest_trades ADD COLUMN IF NOT EXISTS mfe DOUBLE PRECISION;
ALTER TABLE backtest_trades ADD COLUMN IF NOT EXISTS bars_held INTEGER;
CREATE UNIQUE INDEX IF NOT EXISTS backtest_trades_number ON backtest_trades (backtest_id, trade_number);

-- The equity curve as the engine reported it (possibly thinned); seq keeps its order.
CREATE TABLE IF NOT EXISTS backtest_equity (
    backtest_id UUID NOT NULL REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,
    equity      DOUBLE PRECISION NOT NULL,
    cash        DOUBLE PRECISION NOT NULL,
    drawdown    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (backtest_id, seq)
);

-- End-of-day equity and that day's return, one row per trading date.
CREATE TABLE IF NOT EXISTS backtest_daily_returns (
    backtest_id UUID NOT NULL REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    date        DATE NOT NULL,
    equity      DOUBLE PRECISION,
    ret         DOUBLE PRECISION,
    PRIMARY KEY (backtest_id, date)
);

-- Every order the strategy submitted; the whole record is in payload, the columns are for filtering.
CREATE TABLE IF NOT EXISTS backtest_orders (
    backtest_id  UUID NOT NULL REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    order_id     INTEGER NOT NULL,
    instrument   TEXT NOT NULL,
    side         VARCHAR(10) NOT NULL,
    status       VARCHAR(20) NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    payload      JSONB NOT NULL,
    PRIMARY KEY (backtest_id, order_id)
);

-- The latest checkpoint of a running backtest (opaque JSON owned by the runner).
CREATE TABLE IF NOT EXISTS backtest_checkpoints (
    backtest_id UUID PRIMARY KEY REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    checkpoint  JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every status a backtest went through, oldest first.
CREATE TABLE IF NOT EXISTS backtest_status_history (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backtest_id UUID NOT NULL REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    status      VARCHAR(50) NOT NULL,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS backtest_status_history_backtest ON backtest_status_history (backtest_id, id);
