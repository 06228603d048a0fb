namespace Backtesting.Api.Backtests.Contracts;

/// <summary>The body of <c>POST /compare</c>: the completed backtests to compare and the risk-free rate.</summary>
public sealed record CompareRequest(IReadOnlyList<Guid> Ids, double RiskFreeRate = 0)
{
    public const int MinIds = 2;
    public const int MaxIds = 20;
}
