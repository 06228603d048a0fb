-- 032 The equity curve and the daily series, one row of arrays per backtest instead of one row per point.
-- Why: saving a result is on the path of every completion, and a row per point cost PostgreSQL a foreign-key
-- check, an index entry and a tuple header for each point: about 7 ms for a 5-year daily run's 1,258 points,
-- per series. One row per series is one check and one entry. The arrays are stored out of line, uncompressed:
-- doubles barely compress, and compressing them costs time on every save.
-- The old names stay, as views with the old columns, so SQL written against them still reads a row per point.
-- Idempotent, like every script: points already stored move once, then the old tables become views.
CREATE TABLE IF NOT EXISTS backtest_equity_series (
    backtest_id UUID PRIMARY KEY REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    ts          TIMESTAMPTZ[] NOT NULL,
    equity      DOUBLE PRECISION[] NOT NULL,
    cash        DOUBLE PRECISION[] NOT NULL,
    drawdown    DOUBLE PRECISION[] NOT NULL,
    CONSTRAINT equity_series_aligned CHECK (
        cardinality(equity) = cardinality(ts) AND cardinality(cash) = cardinality(ts)
        AND cardinality(drawdown) = cardinality(ts))
);
ALTER TABLE backtest_equity_series
    ALTER COLUMN ts SET STORAGE EXTERNAL,
    ALTER COLUMN equity SET STORAGE EXTERNAL,
    ALTER COLUMN cash SET STORAGE EXTERNAL,
    ALTER COLUMN drawdown SET STORAGE EXTERNAL;

-- A date's equity or return may be missing (NULL element); the dates are ascending.
CREATE TABLE IF NOT EXISTS backtest_daily_series (
    backtest_id UUID PRIMARY KEY REFERENCES backtests (backtest_id) ON DELETE CASCADE,
    dates       DATE[] NOT NULL,
    equity      DOUBLE PRECISION[] NOT NULL,
    ret         DOUBLE PRECISION[] NOT NULL,
    CONSTRAINT daily_series_aligned CHECK (
        cardinality(equity) = cardinality(dates) AND cardinality(ret) = cardinality(dates))
);
ALTER TABLE backtest_daily_series
    ALTER COLUMN dates SET STORAGE EXTERNAL,
    ALTER COLUMN equity SET STORAGE EXTERNAL,
    ALTER COLUMN ret SET STORAGE EXTERNAL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass('backtest_equity') AND relkind = 'r') THEN
        INSERT INTO backtest_equity_series (backtest_id, ts, equity, cash, drawdown)
        SELECT backtest_id, array_agg(ts ORDER BY seq), array_agg(equity ORDER BY seq),
               array_agg(cash ORDER BY seq), array_agg(drawdown ORDER BY seq)
          FROM backtest_equity GROUP BY backtest_id
        ON CONFLICT (backtest_id) DO NOTHING;
        DROP TABLE backtest_equity;
    END IF;

    IF EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass('backtest_daily_returns') AND relkind = 'r') THEN
        INSERT INTO backtest_daily_series (backtest_id, dates, equity, ret)
        SELECT backtest_id, array_agg(date ORDER BY date), array_agg(equity ORDER BY date), array_agg(ret ORDER BY date)
          FROM backtest_daily_returns GROUP BY backtest_id
        ON CONFLICT (backtest_id) DO NOTHING;
        DROP TABLE backtest_daily_returns;
    END IF;
END
$$;

-- seq counts from 0, as it did in the table.
CREATE OR REPLACE VIEW backtest_equity AS
SELECT s.backtest_id, (p.n - 1)::INTEGER AS seq, p.ts, p.equity, p.cash, p.drawdown
  FROM backtest_equity_series s
 CROSS JOIN LATERAL unnest(s.ts, s.equity, s.cash, s.drawdown) WITH ORDINALITY AS p(ts, equity, cash, drawdown, n);

CREATE OR REPLACE VIEW backtest_daily_returns AS
SELECT s.backtest_id, p.date, p.equity, p.ret
  FROM backtest_daily_series s
 CROSS JOIN LATERAL unnest(s.dates, s.equity, s.ret) AS p(date, equity, ret);
