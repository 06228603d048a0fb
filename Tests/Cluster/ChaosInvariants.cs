using Backtesting.Engine.Results;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Tests.Cluster;

/// <summary>One backtest of a chaos run: its id, owner, priority, config, and its rank among its owner's submissions at that priority.</summary>
internal sealed record ChaosBacktest(Guid Id, string Owner, BacktestPriority Priority, string Json, int Order);

/// <summary>
/// What a chaos run must leave, each check returning its offenders (none: it holds). One home for the small chaos tests
/// (Tests/Cluster) and the chaos benchmark (<c>Benchmarks -- chaos</c>, which compiles this file in and prints each as
/// PASS or FAIL).
/// </summary>
internal static class ChaosInvariants
{
    /// <summary>Every backtest's status as its grain says now.</summary>
    public static async Task<Dictionary<Guid, BacktestStatus>> Statuses(IClusterClient client, IEnumerable<ChaosBacktest> backtests)
    {
        var statuses = new Dictionary<Guid, BacktestStatus>();
        foreach (var b in backtests)
        {
            statuses[b.Id] = await ChaosHarness.Retry(() => client.GetGrain<IBacktestGrain>(b.Id).GetStatus());
        }

        return statuses;
    }

    /// <summary>Every backtest ended, exactly once (one terminal change in its history), and completed.</summary>
    public static List<string> EndedOnceCompleted(IEnumerable<BacktestStatus> statuses) =>
        [.. statuses.Where(s => !s.IsTerminal || s.State != BacktestState.Completed || s.History.Count(h => Lifecycle.IsTerminal(h.State)) != 1)
            .Select(s => $"{s.Id} is {s.State} with {s.History.Count(h => Lifecycle.IsTerminal(h.State))} terminal changes: {s.Error?.ErrorMessage}")];

    /// <summary>
    /// Each completed backtest's stored result equals the same configuration run without faults (<paramref name="reference"/>,
    /// by config): content hash, metrics, trades, daily equity, not partial; and the trades table holds each trade once.
    /// </summary>
    public static async Task<List<string>> ResultsEqualFaultFree(IClusterClient client, string connectionString, IEnumerable<ChaosBacktest> backtests,
        IReadOnlyDictionary<Guid, BacktestStatus> statuses, Func<string, BacktestResult> reference)
    {
        var different = new List<string>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var b in backtests.Where(b => statuses[b.Id].State == BacktestState.Completed))
        {
            var expected = reference(b.Json);
            var actual = await ChaosHarness.Retry(() => client.GetGrain<IBacktestGrain>(b.Id).GetResults());
            await using var trades = new NpgsqlCommand("SELECT count(*) FROM backtest_trades WHERE backtest_id = @id", connection);
            trades.Parameters.AddWithValue("id", b.Id);
            var storedTrades = (long)(await trades.ExecuteScalarAsync())!;
            if (actual is null || actual.ContentHash != expected.ContentHash || actual.Metrics != expected.Metrics
                || !actual.Trades.SequenceEqual(expected.Trades) || !actual.DailyEquity.SequenceEqual(expected.DailyEquity) || actual.Partial
                || storedTrades != expected.Trades.Count)
            {
                different.Add($"{b.Id}: hash {actual?.ContentHash} against {expected.ContentHash}, {actual?.Trades.Count} trades read and " +
                              $"{storedTrades} stored of {expected.Trades.Count}");
            }
        }

        return different;
    }

    /// <summary>The <c>backtests</c> row that listings read says what the grain says.</summary>
    public static async Task<List<string>> RowsAgree(string connectionString, IEnumerable<ChaosBacktest> backtests, IReadOnlyDictionary<Guid, BacktestStatus> statuses)
    {
        var store = new PostgresBacktestStore(connectionString);
        var disagree = new List<string>();
        foreach (var b in backtests)
        {
            var row = await store.GetAsync(b.Id);
            if (row?.Status != Lifecycle.Word(statuses[b.Id].State))
            {
                disagree.Add($"{b.Id}: row says {row?.Status ?? "(none)"}, the grain {statuses[b.Id].State}");
            }
        }

        return disagree;
    }

    /// <summary>Every job completed with every planned trial stored exactly once (count, distinct count and range all equal the plan).</summary>
    public static async Task<List<string>> TrialsOnceJobsCompleted(string connectionString, IEnumerable<(Guid Id, int Trials)> jobs)
    {
        var faults = new List<string>();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        foreach (var (id, planned) in jobs)
        {
            await using var command = dataSource.CreateCommand(
                "SELECT o.status, count(t.*), count(DISTINCT t.trial_number), coalesce(max(t.trial_number), -1) FROM optimizations o " +
                "LEFT JOIN optimization_trials t ON t.optimization_id = o.optimization_id WHERE o.optimization_id = @id GROUP BY o.status");
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync();
            if (!await reader.ReadAsync())
            {
                faults.Add($"job {id} has no row");
                continue;
            }

            var (status, count, distinct, max) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt32(3));
            if (status != "completed" || count != planned || distinct != planned || max != planned - 1)
            {
                faults.Add($"job {id} is {status} with {count} trials stored ({distinct} distinct, up to {max}) of {planned}");
            }
        }

        return faults;
    }

    /// <summary>The queue holds no slot and nothing waits.</summary>
    public static List<string> QueueDrained(QueueSnapshot queue) =>
        [.. queue.Running.Select(r => $"{r.Kind} {r.BacktestId} still holds a slot").Concat(queue.Queued.Select(q => $"{q.Kind} {q.BacktestId} still queued"))];

    /// <summary>
    /// No worker left: no process whose command line names the run's folder, and (with <paramref name="docker"/>) no container
    /// labelled as a run's (of one of <paramref name="ours"/>, when given: the daemon may hold other tests' containers); waits
    /// up to <paramref name="wait"/> for them to go (a reaper or an orphaned worker stopping itself).
    /// </summary>
    public static async Task<List<string>> Orphans(string work, bool docker, TimeSpan wait, IReadOnlySet<Guid>? ours = null)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            List<string> orphans = [.. ChaosHarness.WorkersUnder(work).Select(p => $"worker process {p}")];
            if (docker)
            {
                orphans.AddRange((await ChaosHarness.Docker("ps", "-a", "--filter", $"label={DockerRunner.BacktestLabel}",
                        "--format", $"{{{{.ID}}}} {{{{.Label \"{DockerRunner.BacktestLabel}\"}}}}"))
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', 2))
                    .Where(c => ours is null || (c.Length == 2 && Guid.TryParse(c[1], out var id) && ours.Contains(id)))
                    .Select(c => $"container {c[0]} of {(c.Length == 2 ? c[1] : "?")}"));
            }

            if (orphans.Count == 0 || DateTime.UtcNow > deadline)
            {
                return orphans;
            }

            await Task.Delay(1000);
        }
    }

    /// <summary>
    /// Within one owner and priority, no backtest submitted later was granted its slot (its first attempt's) before an
    /// earlier one. The queue's order shows in grant times: runs granted in one step start on their silos in either order
    /// after the grant's round trip, so start times are compared only where an attempt has no grant time.
    /// </summary>
    public static List<string> StartOrder(IEnumerable<ChaosBacktest> backtests, IReadOnlyDictionary<Guid, BacktestStatus> statuses)
    {
        var inversions = new List<string>();
        foreach (var group in backtests.GroupBy(b => (b.Owner, b.Priority)))
        {
            var ordered = group.OrderBy(b => b.Order).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var (earlier, later) = (First(statuses[ordered[i - 1].Id]), First(statuses[ordered[i].Id]));
                if (earlier is { } e && later is { } l && Began(l) < Began(e))
                {
                    var what = e.GrantedAt is not null && l.GrantedAt is not null ? "was granted its slot" : "started";
                    inversions.Add($"{group.Key.Owner}/{group.Key.Priority}: #{ordered[i].Order} {what} " +
                                   $"{(Began(e) - Began(l)).TotalMilliseconds:F0} ms before #{ordered[i - 1].Order}");
                }
            }
        }

        return inversions;
    }

    /// <summary>
    /// Every attempt's grant time lies between the backtest's last move to queued before the attempt started (the grain
    /// records it, then enqueues) and the attempt's start: a grant is the queue's answer to that enqueue, and an attempt
    /// starts only in a slot granted to it.
    /// </summary>
    public static List<string> GrantedBetweenEnqueueAndStart(IEnumerable<BacktestStatus> statuses)
    {
        var offenders = new List<string>();
        foreach (var status in statuses)
        {
            foreach (var attempt in status.Attempts)
            {
                var queued = status.History.LastOrDefault(h => h.State == BacktestState.Queued && h.At <= attempt.StartedAt)?.At;
                if (attempt.GrantedAt is not { } granted || queued is not { } enqueued || granted < enqueued || granted > attempt.StartedAt)
                {
                    offenders.Add($"{status.Id} attempt {attempt.Number}: granted at {attempt.GrantedAt:O}, queued at {queued:O}, " +
                                  $"started at {attempt.StartedAt:O}");
                }
            }
        }

        return offenders;
    }

    private static RunAttempt? First(BacktestStatus status) => status.Attempts.Count > 0 ? status.Attempts.MinBy(a => a.StartedAt) : null;

    private static DateTime Began(RunAttempt attempt) => attempt.GrantedAt ?? attempt.StartedAt;
}
