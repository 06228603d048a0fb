namespace Backtesting.Api.Optimizations;

/// <summary>The OpenAPI examples of the optimization routes (<see cref="OptimizationRoutes"/>).</summary>
internal static class OptimizationExamples
{
    public const string Id = "7a4e2b10-5c3d-4f61-8e29-0b9d1c2a3f45";

    /// <remarks>
    /// Every number and word of it is one the job needs exactly so (a fuzz test makes each hostile in turn): the seed
    /// (any whole number) and constraints (any bound) are documented in docs/optimization.md instead.
    /// </remarks>
    public const string StartRequest = """{"name":"MA cross on SPY","baseConfig":{"strategyClass":"MovingAverageCross","strategyConfig":{"maType":"SMA"},"startDate":"2019-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000},"parameters":{"fastPeriod":{"min":5,"max":50,"step":5},"slowPeriod":{"min":60,"max":200,"step":20}},"method":"grid","maxTrials":null,"objective":{"metric":"sharpeRatio","direction":"maximize"},"constraints":[],"target":null,"priority":"normal"}""";

    public const string Started = $$"""{"id":"{{Id}}","status":"queued","trialsPlanned":80,"statusUrl":"/api/v1/optimizations/{{Id}}"}""";
}
