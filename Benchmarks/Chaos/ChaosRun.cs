using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Results;
using Backtesting.Grains.Interfaces;
using Backtesting.Tests.Cluster;

namespace Backtesting.Benchmarks.Chaos;

internal static partial class ChaosBench
{
    /// <summary>One chaos run: the load, the faults, the drain, then the checks and the figures.</summary>
    private sealed partial class Run(ChaosOptions options, IClusterClient client, Uri api, IReadOnlyDictionary<string, string> keys) : IAsyncDisposable
    {
        private readonly List<ChaosBacktest> _backtests = [];
        private readonly List<(Guid Id, int Trials)> _jobs = [];
        private readonly List<Fault> _faults = [];
        private readonly ConcurrentDictionary<Guid, BacktestStatus> _ended = new();
        private readonly ConcurrentBag<string> _leaks = [];
        private readonly ApiLoad _load = new(api, keys);
        private readonly Random _random = new(20261206);

        public async Task<int> Execute(List<SiloProcess> silos, Func<SiloProcess> startSilo, OwnPostgres postgres, string connectionString, string work,
            string root)
        {
            _work = work;
            // The fault-free references, on the engine in this process, before the load (their time is not the run's).
            var distinct = Math.Min(options.Backtests, 40);
            var references = Enumerable.Range(0, distinct).AsParallel().ToDictionary(i => Daily(i), i => Reference.Of(Daily(i), root));
            Console.WriteLine($"  {distinct} fault-free references computed; load {Load()}");

            var clock = Stopwatch.StartNew();
            var began = DateTime.UtcNow;
            await Submit();
            var submitted = clock.Elapsed;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  submitted {_backtests.Count} backtests and {_jobs.Count} jobs through the API in {submitted.TotalSeconds:F1} s"));
            var byOwner = _backtests.GroupBy(b => b.Owner).ToDictionary(g => g.Key, g => g.Select(b => b.Id).ToArray());
            _load.StartPolling(options.Clients, options.PollEvery, owner =>
                byOwner.TryGetValue(owner, out var ids) ? ids[Random.Shared.Next(ids.Length)] : null);
            await _load.StartSubscribers(options.Subscribers, [.. _backtests.Select(b => (b.Id, b.Owner))]);
            using var watching = new CancellationTokenSource();
            var watcher = Task.Run(() => Watch(watching.Token));

            await Faults(silos, startSilo, postgres, root, clock);
            var lastFault = clock.Elapsed;
            var doneAtLastFault = _ended.Count;
            var trialsAtLastFault = await TrialsStored(connectionString);
            var remaining = _backtests.Count - doneAtLastFault;
            var rate = doneAtLastFault / Math.Max(1, lastFault.TotalSeconds);
            var trialRate = trialsAtLastFault / Math.Max(1, lastFault.TotalSeconds);
            var remainingTrials = (_jobs.Sum(j => j.Trials) - trialsAtLastFault);
            // The work left at the run's own rate; a kind of work with no rate yet (no trial stored) is priced at the other's:
            // one backtest's slot time for each trial batch's worth is unknown, so its share counts as the backtests' time again.
            var backtestSeconds = remaining > 0 ? remaining / Math.Max(rate, 0.01) : 0;
            var trialSeconds = remainingTrials <= 0 ? 0 : trialRate > 0 ? remainingTrials / trialRate : Math.Max(backtestSeconds, lastFault.TotalSeconds);
            var bound = options.DrainSlack + TimeSpan.FromSeconds(backtestSeconds + trialSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  faults stopped at {lastFault.TotalSeconds:F0} s with {remaining} backtests and {remainingTrials} trials left; drain bound {bound.TotalSeconds:F0} s " +
                $"({options.DrainSlack.TotalSeconds:F0} s + the rest at the run's own rate)"));

            var hardStop = bound + TimeSpan.FromMinutes(5);
            var backtestsDone = TimeSpan.Zero;
            var jobsDone = TimeSpan.Zero;
            while (clock.Elapsed - lastFault < hardStop)
            {
                if (backtestsDone == TimeSpan.Zero && _ended.Count == _backtests.Count)
                {
                    backtestsDone = clock.Elapsed;
                }

                if (jobsDone == TimeSpan.Zero && await JobsEnded())
                {
                    jobsDone = clock.Elapsed;
                }

                if (backtestsDone > TimeSpan.Zero && jobsDone > TimeSpan.Zero)
                {
                    break;
                }

                await Task.Delay(500);
            }

            var drained = clock.Elapsed - lastFault;
            await watching.CancelAsync();
            await watcher;
            // Subscribers hear a completion within the hub's quiet check after it: give them that long.
            await Task.Delay(TimeSpan.FromSeconds(5));
            await _load.StopPolling();

            var checks = new ChaosChecks(client, connectionString, work, options.Runner == "docker");
            var passed = await checks.All(_backtests, _jobs, references, _leaks, _load, drained <= bound ? null :
                $"drained in {drained.TotalSeconds:F0} s, over the bound of {bound.TotalSeconds:F0} s");

            var totalTrials = _jobs.Sum(j => j.Trials);
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"backtests: {_backtests.Count} in {(backtestsDone > TimeSpan.Zero ? backtestsDone : clock.Elapsed).TotalSeconds:F0} s = " +
                $"{_backtests.Count / Math.Max(1, (backtestsDone > TimeSpan.Zero ? backtestsDone : clock.Elapsed).TotalSeconds):F2} backtests/s; " +
                $"trials: {totalTrials} in {(jobsDone > TimeSpan.Zero ? jobsDone : clock.Elapsed).TotalSeconds:F0} s = " +
                $"{totalTrials / Math.Max(1, (jobsDone > TimeSpan.Zero ? jobsDone : clock.Elapsed).TotalSeconds):F1} trials/s (both from the first submit, sharing the slots)"));
            foreach (var kind in _faults.GroupBy(f => f.Kind))
            {
                var times = kind.SelectMany(f => f.RecoverySeconds).ToList();
                var (p50, p99, max) = Percentiles(times);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"recovery after {kind.Key,-22} x{kind.Count(),2}: {times.Count,4} backtests hit, running again after p50 {p50:F1} s, p99 {p99:F1} s, max {max:F1} s"));
            }

            var extra = _ended.Values.Sum(s => Math.Max(0, s.Attempts.Count - 1));
            Console.WriteLine($"attempts beyond the first: {extra} (over {_ended.Count} backtests)");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"drain after the last fault: {drained.TotalSeconds:F0} s against a bound of {bound.TotalSeconds:F0} s"));
            ReportApi(began);
            Console.WriteLine($"load at the end: {Load()}");
            Console.WriteLine(passed ? "chaos: every check passed" : "chaos: CHECKS FAILED");
            return passed ? 0 : 1;
        }

        /// <summary>The burst: per owner one submitter (so its order is its submission order), all three at once; then the jobs.</summary>
        private async Task Submit()
        {
            var plan = Enumerable.Range(0, options.Backtests)
                .Select(i => (Index: i, Owner: Owners[i % Owners.Length], Priority: (BacktestPriority)(i * 7 / 3 % 4), Json: Daily(i % 40)))
                .ToList();
            var orders = new ConcurrentDictionary<(string, BacktestPriority), int>();
            var accepted = new ConcurrentBag<ChaosBacktest>();
            await Task.WhenAll(Owners.Select(owner => Task.Run(async () =>
            {
                using var http = Http(api, keys[owner]);
                foreach (var item in plan.Where(p => p.Owner == owner))
                {
                    var body = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(item.Json)!;
                    body["priority"] = JsonSerializer.SerializeToElement(item.Priority.ToString().ToLowerInvariant());
                    body["useCache"] = JsonSerializer.SerializeToElement(false);
                    var answer = await Post(http, "/api/v1/nautilus/backtest/start", JsonSerializer.Serialize(body));
                    var order = orders.AddOrUpdate((owner, item.Priority), 0, (_, n) => n + 1);
                    accepted.Add(new ChaosBacktest(answer.GetProperty("id").GetGuid(), owner, item.Priority, item.Json, order));
                }
            })));
            _backtests.AddRange(accepted.OrderBy(b => b.Owner, StringComparer.Ordinal).ThenBy(b => b.Priority).ThenBy(b => b.Order));
            for (var j = 0; j < options.Jobs; j++)
            {
                using var http = Http(api, keys[Owners[j % Owners.Length]]);
                var answer = await Post(http, "/api/v1/optimizations", JobJson(options.Trials));
                _jobs.Add((answer.GetProperty("id").GetGuid(), options.Trials));
            }
        }

        /// <summary>
        /// Every 2 s: which backtests ended (the terminal status, once), and whether the queue holds a slot for a backtest
        /// that ended at least one sample before (a slot held by a run that no longer exists).
        /// </summary>
        private async Task Watch(CancellationToken stop)
        {
            var endedBefore = new HashSet<Guid>();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    foreach (var chunk in _backtests.Where(b => !_ended.ContainsKey(b.Id)).Chunk(50))
                    {
                        var statuses = await Task.WhenAll(chunk.Select(b => client.GetGrain<IBacktestGrain>(b.Id).GetStatus().WaitAsync(TimeSpan.FromSeconds(10), stop)));
                        foreach (var status in statuses.Where(s => s.IsTerminal))
                        {
                            _ended.TryAdd(status.Id, status);
                        }
                    }

                    var queue = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot().WaitAsync(TimeSpan.FromSeconds(10), stop);
                    foreach (var held in queue.Running.Where(r => r.Kind == QueueItemKind.Backtest && endedBefore.Contains(r.BacktestId)))
                    {
                        _leaks.Add($"{held.BacktestId} ended but its slot (granted {held.GrantedAt:HH:mm:ss}) was still held");
                    }

                    endedBefore = [.. _ended.Keys];
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A silo killed a moment ago: ask again on the next turn.
                }

                try
                {
                    await Task.Delay(2000, stop);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        private async Task<bool> JobsEnded()
        {
            foreach (var (id, _) in _jobs)
            {
                using var http = Http(api, keys[Owners[_jobs.FindIndex(j => j.Id == id) % Owners.Length]]);
                try
                {
                    var status = await http.GetFromJsonAsyncSafe($"/api/v1/optimizations/{id}");
                    if (status?.GetProperty("status").GetString() is not ("completed" or "failed" or "cancelled"))
                    {
                        return false;
                    }
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }

            return true;
        }

        private static async Task<long> TrialsStored(string connectionString)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
                    await using var command = dataSource.CreateCommand("SELECT count(*) FROM optimization_trials");
                    return (long)(await command.ExecuteScalarAsync())!;
                }
                catch (Npgsql.NpgsqlException) when (attempt < 10)
                {
                    await Task.Delay(1000);
                }
            }
        }

        private void ReportApi(DateTime began)
        {
            var answers = _load.Answers.ToArray();
            bool InWindow(Answer a) => _faults.Any(f => a.At >= f.Began && a.At <= f.Ended + WindowTail);
            var status = answers.Where(a => a.Route == "status" && a.Status == 200 && !InWindow(a)).Select(a => a.Milliseconds).ToList();
            var list = answers.Where(a => a.Route == "list" && a.Status == 200 && !InWindow(a)).Select(a => a.Milliseconds).ToList();
            var (s50, s99, sMax) = Percentiles(status);
            var (l50, l99, lMax) = Percentiles(list);
            var pgDown = answers.Where(a => _faults.Any(f => f.Kind.StartsWith("postgres", StringComparison.Ordinal) && a.At >= f.Began && a.At <= f.Ended)).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"API under load: {answers.Length} answers to {options.Clients} clients over {(DateTime.UtcNow - began).TotalSeconds:F0} s; " +
                $"status outside fault windows p50 {s50:F1} ms, p99 {s99:F1} ms (goal < 50 ms), max {sMax:F0} ms (n={status.Count}); " +
                $"listing p50 {l50:F1} ms, p99 {l99:F1} ms (n={list.Count})"));
            Console.WriteLine($"  by status: {string.Join(", ", answers.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "no answer" : g.Key.ToString(CultureInfo.InvariantCulture))} x{g.Count()}"))}; " +
                $"while PostgreSQL was down: {string.Join(", ", pgDown.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}"))}");
            Console.WriteLine($"  SignalR: {_load.Subscribers.Count} subscribers, {_load.Reconnects} reconnects");
        }

        public async ValueTask DisposeAsync() => await _load.DisposeAsync();
    }
}

internal static class HttpJson
{
    /// <summary>GET as JSON; null when the answer is not a success (a 503 while a fault lasts).</summary>
    public static async Task<JsonElement?> GetFromJsonAsyncSafe(this HttpClient http, string route)
    {
        using var response = await http.GetAsync(route);
        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone() : null;
    }
}
