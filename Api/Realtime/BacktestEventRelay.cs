using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Realtime;

/// <summary>Relays the cluster's backtest streams (namespace <see cref="StreamNames.Namespace"/>, keyed by the backtest id).</summary>
public sealed class BacktestEventRelay(IClusterClient client, ILogger<BacktestEventRelay> log) : StreamRelay<BacktestEvent>(client, log)
{
    protected override string Namespace => StreamNames.Namespace;

    protected override (string Type, string Json) Read(BacktestEvent item) => (item.Type, item.Json);
}
