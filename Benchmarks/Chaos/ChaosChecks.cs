using System.Collections.Concurrent;
using Backtesting.Engine.Results;
using Backtesting.Grains.Interfaces;
using Backtesting.Tests.Cluster;
using Npgsql;

namespace Backtesting.Benchmarks.Chaos;

/// <summary>
/// What a chaos run must leave, checked rather than eyeballed; each check prints PASS or FAIL with the first offenders. The
/// checks of the backtests, trials, queue, workers and start order are the chaos tests' own (<see cref="ChaosInvariants"/>);
/// the API's and the subscribers' are the benchmark's.
/// </summary>
internal sealed class ChaosChecks(IClusterClient client, string connectionString, string work, bool docker)
{
    private bool _passed = true;

    public async Task<bool> All(IReadOnlyList<ChaosBacktest> backtests, IReadOnlyList<(Guid Id, int Trials)> jobs,
        IReadOnlyDictionary<string, BacktestResult> references, ConcurrentBag<string> leaks, ApiLoad load, string? drainFailure)
    {
        Console.WriteLine();
        Report("drained within the bound", drainFailure is null ? [] : [drainFailure]);
        NpgsqlConnection.ClearAllPools();
        var statuses = await ChaosInvariants.Statuses(client, backtests);
        Report("every backtest ended exactly once, completed", ChaosInvariants.EndedOnceCompleted(backtests.Select(b => statuses[b.Id])));
        Report("completed results equal the fault-free runs (content hash, metrics, trades, daily equity)",
            await ChaosInvariants.ResultsEqualFaultFree(client, connectionString, backtests, statuses, json => references[json]));
        Report("every backtests row agrees with its grain", await ChaosInvariants.RowsAgree(connectionString, backtests, statuses));
        Report("every trial stored exactly once, every job completed", await ChaosInvariants.TrialsOnceJobsCompleted(connectionString, jobs));

        // No slot held by a run that had ended (sampled during the run), and the queue drains to zero.
        var queue = await ChaosHarness.Retry(() => client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot());
        Report("no leaked slot (holders are running; the queue drains to zero)", leaks.Distinct().Concat(ChaosInvariants.QueueDrained(queue)));
        Report("no orphan container or worker process", await ChaosInvariants.Orphans(work, docker, TimeSpan.FromMinutes(1)));
        Report("start order follows submission order within one owner and priority (by grant times)", ChaosInvariants.StartOrder(backtests, statuses));
        Report("every attempt was granted its slot between its enqueue and its start",
            ChaosInvariants.GrantedBetweenEnqueueAndStart(backtests.Select(b => statuses[b.Id])));

        // The API: never a 500; every 503 carried Retry-After.
        var answers = load.Answers.ToArray();
        Report("the API never answered 500, and every 503 carried Retry-After", answers.Where(ApiLoad.IsServerError)
            .Select(a => $"{a.Route} answered {a.Status} at {a.At:HH:mm:ss.fff}")
            .Concat(answers.Where(a => a.Status == 503 && !a.RetryAfter).Select(a => $"{a.Route} answered 503 without Retry-After at {a.At:HH:mm:ss.fff}")));

        // Every subscriber heard the completion of every backtest it follows (after reconnects).
        Report("every subscriber received every completion of its backtests", load.Subscribers
            .SelectMany((s, k) => s.Follows.Where(id => !s.Completed.ContainsKey(id)).Select(id => $"subscriber {k} never heard {id} complete")));
        return _passed;
    }

    private void Report(string check, IEnumerable<string> failures)
    {
        var list = failures.ToList();
        _passed &= list.Count == 0;
        Console.WriteLine(list.Count == 0 ? $"PASS {check}" : $"FAIL {check}: {list.Count}\n    {string.Join("\n    ", list.Take(10))}");
    }
}
