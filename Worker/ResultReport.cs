using System.Globalization;
using Backtesting.Engine.Results;

namespace Backtesting.Worker;

/// <summary>A short human summary of a result, on stderr (stdout is the machine protocol).</summary>
public static class ResultReport
{
    public static void Write(BacktestResult result, TextWriter writer)
    {
        var s = result.Summary;
        var m = result.Metrics;
        string Pct(double? value) => value is { } v ? v.ToString("P2", CultureInfo.InvariantCulture) : "n/a";
        string Num(double? value) => value is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "n/a";
        writer.WriteLine();
        writer.WriteLine($"  {s.Strategy} on {string.Join(", ", s.Instruments)}, {s.StartDate} to {s.EndDate}{(result.Partial ? " (PARTIAL)" : "")}");
        writer.WriteLine($"  bars processed      {s.ProcessedBars:N0}");
        writer.WriteLine($"  initial balance     {s.InitialBalance.ToString("N2", CultureInfo.InvariantCulture)} {s.BaseCurrency}");
        writer.WriteLine($"  final balance       {s.FinalBalance.ToString("N2", CultureInfo.InvariantCulture)} {s.BaseCurrency}");
        writer.WriteLine($"  total return        {Pct(s.TotalReturn)}   (benchmark {result.Benchmark.Instrument}: {Pct(result.Benchmark.TotalReturn)})");
        writer.WriteLine($"  annualized return   {Pct(m.AnnualizedReturn)}");
        writer.WriteLine($"  max drawdown        {Pct(s.MaxDrawdown)}");
        writer.WriteLine($"  sharpe / sortino    {Num(m.SharpeRatio)} / {Num(m.SortinoRatio)}");
        writer.WriteLine($"  trades              {s.TotalTrades}   win rate {Pct(m.WinRate)}   profit factor {Num(m.ProfitFactor)}");
        writer.WriteLine($"  commission          {m.TotalCommission.ToString("N2", CultureInfo.InvariantCulture)}");
        foreach (var note in result.Notes)
        {
            writer.WriteLine($"  note: {note}");
        }
    }
}
