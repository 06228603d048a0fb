using System.Collections.Concurrent;
using System.Diagnostics;
using Backtesting.Engine.Results;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Backtesting.Tests.Cluster;
using Npgsql;

namespace Backtesting.Benchmarks.Chaos;

/// <summary>
/// What a chaos run must leave, checked rather than eyeballed; each check prints PASS or FAIL with the first offenders.
/// </summary>
internal sealed class ChaosChecks(IClusterClient client, string connectionString, string work, bool docker)
{
    private bool _passed = true;

    public async Task<bool> All(IReadOnlyList<ChaosBench.Submitted> backtests, IReadOnlyList<(Guid Id, int Trials)> jobs,
        ConcurrentDictionary<Guid, BacktestStatus> ended, IReadOnlyDictionary<string, BacktestResult> references, ConcurrentBag<string> leaks,
        ApiLoad load, IReadOnlyList<ChaosBench.Fault> faults, string? drainFailure)
    {
        Console.WriteLine();
        Report("drained within the bound", drainFailure is null ? [] : [drainFailure]);
        NpgsqlConnection.ClearAllPools();
        var store = new PostgresBacktestStore(connectionString);
        var statuses = new Dictionary<Guid, BacktestStatus>();
        foreach (var b in backtests)
        {
            statuses[b.Id] = await ChaosHarness.Retry(() => client.GetGrain<IBacktestGrain>(b.Id).GetStatus());
        }

        // Every backtest terminal, exactly once, completed.
        Report("every backtest ended exactly once, completed", backtests.Select(b => statuses[b.Id]).Where(s =>
                !s.IsTerminal || s.State != BacktestState.Completed || s.History.Count(h => Lifecycle.IsTerminal(h.State)) != 1)
            .Select(s => $"{s.Id} is {s.State} with {s.History.Count(h => Lifecycle.IsTerminal(h.State))} terminal changes: {s.Error?.ErrorMessage}"));

        // The stored results equal the fault-free run of the same configuration: the content hash, the metrics, the summary,
        // the trades and the daily equity; and the trades table holds each trade once.
        var different = new List<string>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            foreach (var b in backtests.Where(b => statuses[b.Id].State == BacktestState.Completed))
            {
                var expected = references[b.Json];
                var actual = await ChaosHarness.Retry(() => client.GetGrain<IBacktestGrain>(b.Id).GetResults());
                await using var trades = new NpgsqlCommand("SELECT count(*) FROM backtest_trades WHERE backtest_id = @id", connection);
                trades.Parameters.AddWithValue("id", b.Id);
                var storedTrades = (long)(await trades.ExecuteScalarAsync())!;
                if (actual is null || actual.ContentHash != expected.ContentHash || actual.Metrics != expected.Metrics
                    || actual.Trades.Count != expected.Trades.Count || !actual.DailyEquity.SequenceEqual(expected.DailyEquity) || actual.Partial
                    || storedTrades != expected.Trades.Count)
                {
                    different.Add($"{b.Id}: hash {actual?.ContentHash} against {expected.ContentHash}, {storedTrades} trades stored of {expected.Trades.Count}");
                }
            }
        }

        Report("completed results equal the fault-free runs (content hash, metrics, trades, daily equity)", different);

        // The row listings read agrees with the grain.
        var disagree = new List<string>();
        foreach (var b in backtests)
        {
            var row = await store.GetAsync(b.Id);
            if (row?.Status != Lifecycle.Word(statuses[b.Id].State))
            {
                disagree.Add($"{b.Id}: row says {row?.Status ?? "(none)"}, the grain {statuses[b.Id].State}");
            }
        }

        Report("every backtests row agrees with its grain", disagree);

        // Every trial stored exactly once (the key is (job, trial number): count, distinct count and range all equal the plan).
        var trialFaults = new List<string>();
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            foreach (var (id, planned) in jobs)
            {
                await using var command = dataSource.CreateCommand(
                    "SELECT o.status, count(t.*), count(DISTINCT t.trial_number), coalesce(max(t.trial_number), -1) FROM optimizations o " +
                    "LEFT JOIN optimization_trials t ON t.optimization_id = o.optimization_id WHERE o.optimization_id = @id GROUP BY o.status");
                command.Parameters.AddWithValue("id", id);
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                var (status, count, distinct, max) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt32(3));
                if (status != "completed" || count != planned || distinct != planned || max != planned - 1)
                {
                    trialFaults.Add($"job {id} is {status} with {count} trials stored ({distinct} distinct, up to {max}) of {planned}");
                }
            }
        }

        Report("every trial stored exactly once, every job completed", trialFaults);

        // No slot held by a run that had ended (sampled during the run), and the queue drains to zero.
        var queue = await ChaosHarness.Retry(() => client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot());
        Report("no leaked slot (holders are running; the queue drains to zero)", leaks.Distinct()
            .Concat(queue.Running.Select(r => $"{r.Kind} {r.BacktestId} still holds a slot"))
            .Concat(queue.Queued.Select(q => $"{q.Kind} {q.BacktestId} still queued")));

        // No worker left: no process under the run's folder, no container of the runner (a minute allowed for the reaper).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        List<string> orphans;
        while (true)
        {
            orphans = [.. ChaosHarness.WorkersUnder(work).Select(p => $"worker process {p}")];
            if (docker)
            {
                orphans.AddRange((await Docker("ps", "-aq", "--filter", $"label={DockerRunner.BacktestLabel}")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(c => $"container {c}"));
            }

            if (orphans.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(1000);
        }

        Report("no orphan container or worker process", orphans);

        // Within one owner and priority, a backtest submitted later never starts first (first attempt's start).
        var inversions = new List<string>();
        foreach (var group in backtests.GroupBy(b => (b.Owner, b.Priority)))
        {
            var ordered = group.OrderBy(b => b.Order).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var (earlier, later) = (FirstStart(statuses[ordered[i - 1].Id]), FirstStart(statuses[ordered[i].Id]));
                if (earlier is { } e && later is { } l && l < e)
                {
                    inversions.Add($"{group.Key.Owner}/{group.Key.Priority}: #{ordered[i].Order} started {(e - l).TotalMilliseconds:F0} ms before #{ordered[i - 1].Order}");
                }
            }
        }

        Report("start order follows submission order within one owner and priority", inversions);

        // The API: never a 500; every 503 carried Retry-After.
        var answers = load.Answers.ToArray();
        Report("the API never answered 500, and every 503 carried Retry-After", answers.Where(ApiLoad.IsServerError)
            .Select(a => $"{a.Route} answered {a.Status} at {a.At:HH:mm:ss.fff}")
            .Concat(answers.Where(a => a.Status == 503 && !a.RetryAfter).Select(a => $"{a.Route} answered 503 without Retry-After at {a.At:HH:mm:ss.fff}")));

        // Every subscriber heard the completion of every backtest it follows (after reconnects).
        Report("every subscriber received every completion of its backtests", load.Subscribers
            .SelectMany((s, k) => s.Follows.Where(id => !s.Completed.ContainsKey(id)).Select(id => $"subscriber {k} never heard {id} complete")));
        _ = faults;
        return _passed;
    }

    private static DateTime? FirstStart(BacktestStatus status) => status.Attempts.Count > 0 ? status.Attempts.Min(a => a.StartedAt) : null;

    private void Report(string check, IEnumerable<string> failures)
    {
        var list = failures.ToList();
        _passed &= list.Count == 0;
        Console.WriteLine(list.Count == 0 ? $"PASS {check}" : $"FAIL {check}: {list.Count}\n    {string.Join("\n    ", list.Take(10))}");
    }

    private static async Task<string> Docker(params string[] arguments)
    {
        var info = new ProcessStartInfo("docker", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }
}
