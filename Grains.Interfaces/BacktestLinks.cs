namespace Backtesting.Grains.Interfaces;

/// <summary>
/// The seed's backtest routes as links: the API maps its routes under <see cref="Prefix"/>, and the links that
/// answers and completion events carry (<c>statusUrl</c>, <c>resultsUrl</c>) are built here, by the API and the
/// backtest grain alike.
/// </summary>
public static class BacktestLinks
{
    public const string Prefix = "/api/v1/nautilus/backtest";

    public static string Status(Guid id) => $"{Prefix}/status/{id}";

    public static string Results(Guid id) => $"{Prefix}/results/{id}";
}
