using System.Collections.Concurrent;
using System.Diagnostics;

namespace Backtesting.Benchmarks;

/// <summary>
/// Counts the PostgreSQL commands the process sends (Npgsql's activities) and their time, grouped by statement,
/// to see which round trips a backtest costs (<c>cluster --profile</c>). Orleans' AdoNet providers use Npgsql too.
/// </summary>
internal sealed class DatabaseProfile : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<string, (int Count, double Ms)> _byStatement = new();

    public DatabaseProfile()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                var text = activity.GetTagItem("db.query.text") as string ?? activity.GetTagItem("db.statement") as string ?? activity.DisplayName;
                var key = Shorten(text);
                _byStatement.AddOrUpdate(key, (1, activity.Duration.TotalMilliseconds),
                    (_, old) => (old.Count + 1, old.Ms + activity.Duration.TotalMilliseconds));
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Print(int backtests)
    {
        Console.WriteLine($"    database commands per backtest (Npgsql activities / {backtests}), mean ms each:");
        var total = 0.0;
        foreach (var (statement, (count, ms)) in _byStatement.OrderByDescending(e => e.Value.Count))
        {
            total += count;
            Console.WriteLine($"    {count / (double)backtests,6:F2}  {ms / count,6:F2} ms  {statement}");
        }

        Console.WriteLine($"    {total / backtests,6:F2}  in all");
    }

    private static string Shorten(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 90 ? flat : flat[..90];
    }

    public void Dispose() => _listener.Dispose();
}
