namespace Backtesting.Api.Backtests;

/// <summary>The OpenAPI examples of the backtest routes (<see cref="BacktestRoutes"/>), one per answer.</summary>
internal static class BacktestExamples
{
    public const string Id = "3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11";

    public const string StartRequest = """{"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"startDate":"2019-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,"baseCurrency":"USD","priority":"normal"}""";

    public const string Started = $$"""{"id":"{{Id}}","status":"queued","statusUrl":"/api/v1/nautilus/backtest/status/{{Id}}","resultsUrl":"/api/v1/nautilus/backtest/results/{{Id}}","progressUrl":"/ws/backtest/{{Id}}/progress"}""";

    public const string Status = """{"id":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","status":"running","owner":"alice","priority":"normal","strategy":"MovingAverageCross","createdAt":"2025-01-02T10:00:00Z","updatedAt":"2025-01-02T10:00:01Z","completedAt":null,"progress":{"progress":{"percentage":42.5,"currentDate":"2019-11-04","processedBars":213,"totalBars":503,"estimatedTimeRemaining":0.4,"processingRate":520.0},"statistics":{"tradesExecuted":3,"currentBalance":104200.0,"unrealizedPnl":1250.0,"drawdown":0.031},"performance":{"memoryUsage":42.0,"cpuUsage":97.0,"diskIO":0.2}},"error":null,"summary":null,"fromCache":false,"attempts":[],"history":[],"resultsUrl":"/api/v1/nautilus/backtest/results/3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","customStrategy":null}""";

    public const string Cancelled = $$"""{"id":"{{Id}}","status":"cancelled"}""";

    public const string Paused = $$"""{"id":"{{Id}}","status":"paused"}""";

    public const string Resumed = $$"""{"id":"{{Id}}","status":"running"}""";

    public const string Results = $$"""{"id":"{{Id}}","status":"completed","partial":false,"summary":{"strategy":"MovingAverageCross","instruments":["SPY.ARCA"],"startDate":"2019-01-02","endDate":"2020-12-31","baseCurrency":"USD","initialBalance":100000,"finalBalance":118734.2,"totalReturn":0.1873,"maxDrawdown":0.121,"totalTrades":7,"openPositions":1,"processedBars":505,"haltedAt":null},"metrics":{"totalReturn":0.1873,"sharpeRatio":0.81,"sortinoRatio":1.12,"maxDrawdown":0.121,"winRate":0.571},"equityCurve":[{"time":"2019-01-02T21:00:00Z","equity":100000,"cash":100000,"drawdown":0}],"drawdown":[{"time":"2019-01-02T21:00:00Z","drawdown":0}],"benchmark":{"instrument":"SPY.ARCA","totalReturn":0.452,"equityCurve":[{"date":"2019-01-02","equity":100000}]},"monthlyReturns":[{"year":2019,"month":1,"return":0.021}],"trades":{"items":[],"page":1,"pageSize":100,"totalCount":7},"perInstrument":[],"openPositions":[],"notes":[],"engineVersion":"0.1.0","contentHash":"…","equityPointsStored":505}""";

    public const string List = $$"""{"items":[{"id":"{{Id}}","status":"completed","owner":"alice","strategy":"MovingAverageCross","startDate":"2019-01-01T00:00:00Z","endDate":"2020-12-31T00:00:00Z","createdAt":"2025-01-02T10:00:00Z","completedAt":"2025-01-02T10:00:02Z","progress":100,"priority":1,"error":null}],"page":1,"pageSize":50,"totalCount":1}""";

    public const string CompareRequest = $$"""{"ids":["{{Id}}","8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a"],"riskFreeRate":0.0}""";

    public const string Comparison = """{"runs":[{"id":"…","label":"MovingAverageCross SPY.ARCA 2019-01-02..2020-12-31","periodsPerYear":252,"dates":505,"datesLeftOut":0}],"metrics":[],"curves":{"dates":[],"series":[]},"correlation":{"values":[],"periods":0}}""";

    /// <summary>The start limit's 429, with the configured limit.</summary>
    public static string TooManyStarts(int startsPerWindow, TimeSpan window) =>
        $$"""{"type":"https://tools.ietf.org/html/rfc6585#section-4","title":"Too many requests","status":429,"detail":"at most {{startsPerWindow}} backtest starts per {{window.TotalMinutes:G}} minutes; retry in 212 s"}""";
}
