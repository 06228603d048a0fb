using System.Globalization;
using Backtesting.Engine.Configuration;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Silo;

/// <summary>Submits one config through the cluster and prints how it went: a smoke test for people.</summary>
internal static class DemoRun
{
    public static async Task RunAsync(IClusterClient client, string configPath)
    {
        var (config, errors) = ConfigValidator.Parse(await File.ReadAllTextAsync(configPath));
        if (config is null)
        {
            Console.WriteLine($"demo config {configPath}: {string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}"))}");
            return;
        }

        var id = Guid.NewGuid();
        var grain = client.GetGrain<IBacktestGrain>(id);
        try
        {
            await grain.Submit(new BacktestSubmission(config, "local", BacktestPriority.Normal, UseCache: false));
        }
        catch (BacktestValidationException e)
        {
            Console.WriteLine($"demo config {configPath} is invalid: {e.Message}");
            return;
        }

        Console.WriteLine($"submitted backtest {id} ({config.StrategyClass} on {string.Join(", ", config.Instruments)})");
        BacktestStatus status;
        var lastState = BacktestState.Created;
        do
        {
            await Task.Delay(100);
            status = await grain.GetStatus();
            if (status.State != lastState)
            {
                Console.WriteLine($"  {status.State,-10} {status.History[^1].Detail}");
                lastState = status.State;
            }
        }
        while (!status.IsTerminal);

        if (status.State != BacktestState.Completed || await grain.GetResults() is not { } result)
        {
            Console.WriteLine($"demo ended {status.State}: {status.Error?.ErrorMessage}");
            return;
        }

        var s = result.Summary;
        string Pct(double? v) => v?.ToString("P2", CultureInfo.InvariantCulture) ?? "n/a";
        Console.WriteLine($"  total return {Pct(s.TotalReturn)} (benchmark {Pct(result.Benchmark.TotalReturn)}), max drawdown {Pct(s.MaxDrawdown)}, " +
                          $"sharpe {result.Metrics.SharpeRatio?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a"}, {s.TotalTrades} trades; results stored in PostgreSQL");
    }
}
