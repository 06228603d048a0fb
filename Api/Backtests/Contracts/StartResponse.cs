namespace Backtesting.Api.Backtests.Contracts;

/// <summary>What <c>POST /start</c> answers (202): the new backtest's id, status and where to follow it.</summary>
public sealed record StartResponse(Guid Id, string Status, string StatusUrl, string ResultsUrl, string ProgressUrl);
