namespace Backtesting.Api.Backtests;

/// <summary>The OpenAPI examples of the queue routes (<see cref="QueueRoutes"/>).</summary>
internal static class QueueExamples
{
    public const string Item = """{"id":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","backtestId":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","position":1,"priority":"high","state":"queued","owner":"alice","strategy":"MovingAverageCross","instruments":["SPY"],"submittedAt":"2025-01-02T10:00:00Z","queuedAt":"2025-01-02T10:00:00Z","sequence":12,"grantedAt":null,"leaseExpiresAt":null,"silo":null,"progress":null}""";

    public const string Queue = """{"queued":[""" + Item + """],"running":[{"id":"8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a","backtestId":"8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a","position":null,"priority":"normal","state":"running","owner":"alice","strategy":"RsiMeanReversion","instruments":["SPY","QQQ"],"submittedAt":"2025-01-02T09:59:57Z","queuedAt":"2025-01-02T09:59:57Z","sequence":null,"grantedAt":"2025-01-02T09:59:58Z","leaseExpiresAt":"2025-01-02T10:01:58Z","silo":"S127.0.0.1:11111:1","progress":{"progress":{"percentage":42.5,"currentDate":"2019-11-04","processedBars":213,"totalBars":503,"estimatedTimeRemaining":0.4,"processingRate":520.0},"statistics":{"tradesExecuted":3,"currentBalance":104200.0,"unrealizedPnl":1250.0,"drawdown":0.031},"performance":{"memoryUsage":42.0,"cpuUsage":97.0,"diskIO":0.2}}}],"limits":{"maxConcurrent":4,"maxConcurrentPerOwner":2}}""";

    public const string PriorityRequest = """{"priority":"high"}""";
}
