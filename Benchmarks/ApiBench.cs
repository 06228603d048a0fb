using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Api.Hosting;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Streams;

namespace Backtesting.Benchmarks;

/// <summary>
/// The API benchmark: one real silo (in-process runner) on a fresh PostgreSQL database and the API in this
/// process on a real Kestrel port, measured through HTTP and SignalR clients like any consumer.
/// </summary>
internal static class ApiBench
{
    private const double ResultsGoalMs = 50;
    private const double ListGoalMs = 30;
    private const double FanOutGoalMs = 100;
    private const string Key = "bench-key-0123456789abcdef";

    private const string YearDaily = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"useCache":false,
         "startDate":"2019-01-01","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000}
        """;

    // The bundled minute data covers a week of October 2013: the month's range runs over what is there.
    private const string MonthMinute = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"useCache":false,
         "startDate":"2013-10-01","endDate":"2013-10-31","instruments":["SPY","IBM","BAC","AIG"],
         "dataConfiguration":{"resolution":"minute"},"initialBalance":100000}
        """;

    // Blocks the only slot while the subscribers join: a week of four instruments' minute bars, paused once it runs.
    private const string Blocker = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":5,"slowPeriod":50},"useCache":false,
         "startDate":"2013-10-07","endDate":"2013-10-11","instruments":["SPY","IBM","BAC","AIG"],
         "dataConfiguration":{"resolution":"minute"},"initialBalance":100000}
        """;

    // The watched run: five years of daily SPY, an event per day's equity and per trade.
    private const string Watched = """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},"useCache":false,
         "startDate":"2015-01-02","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = 500;
        var subscribers = 100;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--requests": requests = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--subscribers": subscribers = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'");
                    return 2;
            }
        }

        var root = RepositoryRoot.Find();
        var data = Path.Combine(root, "data", "lean");
        var server = await ClusterBench.PostgresServer();
        var database = "apibench_" + Guid.NewGuid().ToString("N");
        await ClusterBench.Execute(server, $"CREATE DATABASE \"{database}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database, Pooling = true }.ConnectionString;
        var work = Path.Combine(Path.GetTempPath(), "backtesting-api-bench-" + Guid.NewGuid().ToString("N"));
        var port = ClusterBench.FreePort();
        var rows = new List<(string Name, ClusterBench.Stats Stats, string Note)>();
        var goals = new List<(string Goal, string Measured, bool Met)>();
        try
        {
            await SchemaMigrator.ApplyAsync(connectionString);
            await using (var dataSource = NpgsqlDataSource.Create(connectionString))
            {
                var keys = new ApiKeyStore(dataSource);
                await keys.AddKeyAsync("bench", ApiRoles.User, Key, null);
                // A user per fan-out attempt: each starts two backtests, and a user may start 10 per 5 minutes.
                for (var i = 0; i < FanOutUsers; i++)
                {
                    await keys.AddKeyAsync($"fanout-{i}", ApiRoles.User, FanOutKey(i), null);
                }
            }

            // One slot: the fan-out phase holds it with a paused run while its subscribers join.
            using var silo = await ClusterBench.StartSilo(connectionString, "inProcess", data, work, limit: 1);
            var client = silo.Services.GetRequiredService<IClusterClient>();
            await using var api = ApiApp.Build(
            [
                $"--ConnectionStrings:Backtesting={connectionString}", "--Api:ExternalClusterClient=true", $"--Api:Urls=http://127.0.0.1:{port}",
                $"--Backtesting:DataDirectory={data}", "--Logging:LogLevel:Default=Warning", "--Logging:Console:FormatterName=simple",
            ], services => services.AddSingleton(client));
            await api.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            Console.WriteLine($"Backtesting API benchmark: {Environment.ProcessorCount} cores, one silo and the API in this process, PostgreSQL on this machine");

            // (1) GET /results/{id}
            foreach (var (name, config) in new[] { ("1-year daily run", YearDaily), ("1-month minute run (4 instruments)", MonthMinute) })
            {
                var id = await Start(http, config);
                await WaitForEnd(http, id);
                using var sample = await http.GetAsync($"/api/v1/nautilus/backtest/results/{id}");
                var size = (await sample.Content.ReadAsByteArrayAsync()).Length;
                var document = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/nautilus/backtest/results/{id}")).RootElement;
                var note = $"{size / 1024} KB: {document.GetProperty("equityPointsStored").GetInt32()} equity points, " +
                           $"{document.GetProperty("trades").GetProperty("totalCount").GetInt32()} trades (first page of 100)";
                var stats = await Measure(http, $"/api/v1/nautilus/backtest/results/{id}", requests);
                rows.Add(Print(($"GET /results, {name}", stats, note)));
                goals.Add(($"GET /results p99 < {ResultsGoalMs:F0} ms, {name}", $"p99 {stats.P99:F1} ms", stats.P99 < ResultsGoalMs));
            }

            // (2) GET /list over 10,000 stored backtests of this user.
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var insert = new NpgsqlCommand("""
                    INSERT INTO backtests (backtest_id, owner, strategy_name, configuration, start_date, end_date, status, created_at, completed_at, progress, priority)
                    SELECT gen_random_uuid(), 'bench', (ARRAY['MovingAverageCross','RsiMeanReversion','BollingerBands'])[1 + i % 3], '{}'::jsonb,
                           '2019-01-01', '2019-12-31', (ARRAY['completed','failed','cancelled','queued'])[1 + i % 4],
                           now() - make_interval(secs => i), now() - make_interval(secs => i), 100, i % 4
                      FROM generate_series(1, 10000) AS i
                    """, connection);
                await insert.ExecuteNonQueryAsync();
                await using var analyze = new NpgsqlCommand("ANALYZE backtests", connection);
                await analyze.ExecuteNonQueryAsync();
            }

            foreach (var (name, query) in new[]
                     {
                         ("newest first, page 1 of 50", "pageSize=50"),
                         ("page 100 of 50", "page=100&pageSize=50"),
                         ("status + strategy filter, by priority", "status=completed&strategy=RsiMeanReversion&sort=priorityHighest&pageSize=50"),
                     })
            {
                var stats = await Measure(http, "/api/v1/nautilus/backtest/list?" + query, requests);
                rows.Add(Print(($"GET /list of 10,000, {name}", stats, "")));
                goals.Add(($"GET /list p99 < {ListGoalMs:F0} ms, {name}", $"p99 {stats.P99:F1} ms", stats.P99 < ListGoalMs));
            }

            // (3) SignalR fan-out: every subscriber joins while the watched run waits, then gets every event. The
            // subscribers run in a process of their own (FanOutSubscribers). The first fan-outs compile the hub's send
            // path and the clients' receive path as they go (perf: the tiered compilation thread took 43% of both cores
            // during one): they are warm-ups, reported on their own lines. Then, with new connections and a new run
            // each, the measured one and the same with clients that build a tree of every message. The clients share
            // the machine's two cores with the API, the silo and the run, so what they do is the server's latency too.
            using var fanOut = new FanOutRunner(http.BaseAddress!, client, subscribers);
            for (var warmUp = 1; warmUp <= FanOutWarmUps; warmUp++)
            {
                var (coldLatency, _, coldComplete, _) = await fanOut.Run(ClientParse.Envelope);
                rows.Add(Print(($"  warm-up {warmUp}: {subscribers} subscribers", coldLatency, $"{coldComplete} of {subscribers} got every event")));
            }

            var (latency, streamLatency, complete, events) = await fanOut.Run(ClientParse.Envelope);
            rows.Add(Print(("  the same run: worker line -> the API's stream input", streamLatency, "before the API: the cluster's share")));
            rows.Add(Print(($"SignalR, {subscribers} subscribers: worker line -> client", latency,
                $"{events} events each; clients read type and timestamp")));
            goals.Add(($"every subscriber received every event", $"{complete} of {subscribers}", complete == subscribers));
            goals.Add(($"fan-out p99 < {FanOutGoalMs:F0} ms", $"p99 {latency.P99:F1} ms", latency.P99 < FanOutGoalMs));
            var (treeLatency, _, treeComplete, treeEvents) = await fanOut.Run(ClientParse.Tree);
            rows.Add(Print(($"  the same, clients parse each message into a tree", treeLatency,
                $"{treeEvents} events each, {treeComplete} of {subscribers} got every one")));
            goals.Add(($"every tree-parsing subscriber received every event", $"{treeComplete} of {subscribers}", treeComplete == subscribers));
            goals.Add(($"fan-out p99 < {FanOutGoalMs:F0} ms, tree-parsing clients", $"p99 {treeLatency.P99:F1} ms", treeLatency.P99 < FanOutGoalMs));
            await api.StopAsync();
            await silo.StopAsync();
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ClusterBench.Execute(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"  {"figure",-58} {"n",6} {"p50",9} {"p99",9} {"max",9}");
        foreach (var (name, stats, note) in rows)
        {
            Console.WriteLine($"  {name,-58} {stats.Count,6} {stats.P50,6:F1} ms {stats.P99,6:F1} ms {stats.Max,6:F1} ms  {note}");
        }

        Console.WriteLine();
        Console.WriteLine("Goals");
        foreach (var (goal, measured, met) in goals)
        {
            Console.WriteLine($"  {goal,-58} {measured,-20} {(met ? "met" : "NOT met")}");
        }

        return goals.All(g => g.Met) ? 0 : 1;
    }

    /// <summary>Prints a figure as soon as it is measured, so a later phase that fails does not lose it.</summary>
    private static (string Name, ClusterBench.Stats Stats, string Note) Print((string Name, ClusterBench.Stats Stats, string Note) row)
    {
        Console.WriteLine($"  {row.Name,-58} {row.Stats.Count,6} {row.Stats.P50,6:F1} ms {row.Stats.P99,6:F1} ms {row.Stats.Max,6:F1} ms  {row.Note}");
        return row;
    }

    private static async Task<ClusterBench.Stats> Measure(HttpClient http, string path, int requests)
    {
        for (var i = 0; i < 20; i++)
        {
            (await http.GetAsync(path)).EnsureSuccessStatusCode();
        }

        var times = new List<double>(requests);
        for (var i = 0; i < requests; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
            response.EnsureSuccessStatusCode();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return ClusterBench.Stats.Of(times);
    }

    private const int FanOutWarmUps = 3;
    private const int FanOutUsers = 12;

    private static string FanOutKey(int user) => $"bench-fanout-key-{user:D2}-0123456789";

    /// <summary>Runs fan-outs, each attempt as a user of its own, again when the watched run did not wait for its subscribers.</summary>
    private sealed class FanOutRunner(Uri api, IClusterClient cluster, int subscribers) : IDisposable
    {
        private readonly FanOutSubscribers _clients = FanOutSubscribers.Start(api, subscribers);
        private int _nextUser;

        public void Dispose() => _clients.Dispose();

        public async Task<(ClusterBench.Stats Latency, ClusterBench.Stats StreamLatency, int Complete, int Events)> Run(ClientParse parse)
        {
            for (var attempt = 1; ; attempt++)
            {
                var key = FanOutKey(_nextUser++ % FanOutUsers);
                using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(2) };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
                if (await FanOut(http, key, _clients, cluster, parse) is { } measured)
                {
                    return measured;
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException("three fan-out attempts in a row found the watched run started before its subscribers joined");
                }
            }
        }
    }

    /// <returns>Null when the blocker did not hold the slot until every subscriber had joined (nothing was measured).</returns>
    private static async Task<(ClusterBench.Stats Latency, ClusterBench.Stats StreamLatency, int Complete, int Events)?> FanOut(
        HttpClient http, string key, FanOutSubscribers clients, IClusterClient cluster, ClientParse parse)
    {
        // Hold the single slot with a paused run, so the watched one waits in the queue while everyone subscribes.
        Guid blocker;
        while (true)
        {
            blocker = await Start(http, Blocker);
            while (Status(await http.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/status/{blocker}")) is "queued" or "starting" or "created")
            {
                await Task.Delay(1);
            }

            using var pause = await http.PostAsync($"/api/v1/nautilus/backtest/pause/{blocker}", null);
            if (pause.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Console.WriteLine("  (the blocker ended before it could be paused; trying again)");
        }

        var watched = await Start(http, Watched);

        // Only the run's own events count: the grain announces a queued backtest on its stream (progress 0%, made
        // by the grain while subscribers join), and whether a subscriber sees that depends on when it joined.
        // The run starts only once the blocker is cancelled, so its events are the ones written after that.
        var cutoff = long.MaxValue;
        bool Counted(DateTime written) => written.Ticks >= Interlocked.Read(ref cutoff);

        // The same events as the API's relay takes them in (a stream subscriber of the same client): what the
        // cluster adds before the API, so the API's own share of the latency can be told apart.
        var streamLatencies = new ConcurrentBag<double>();
        var stream = cluster.GetStreamProvider(StreamNames.Provider).GetStream<BacktestEvent>(StreamId.Create(StreamNames.Namespace, watched));
        var streamHandle = await stream.SubscribeAsync((item, _) =>
        {
            var received = DateTime.UtcNow;
            using var document = JsonDocument.Parse(item.Json);
            var written = document.RootElement.GetProperty("timestamp").GetDateTime().ToUniversalTime();
            if (Counted(written))
            {
                streamLatencies.Add((received - written).TotalMilliseconds);
            }

            return Task.CompletedTask;
        });
        // The subscribers join from a process of their own (see FanOutSubscribers).
        await clients.SubscribeAsync(watched, parse, key);

        // A run paused just as it wrote its last line finishes anyway, and frees the slot early: then the watched run
        // went while subscribers were still joining, and this attempt measures nothing.
        var blockerState = Status(await http.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/status/{blocker}"));
        var watchedState = Status(await http.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/status/{watched}"));
        if (blockerState != "paused" || watchedState != "queued")
        {
            Console.WriteLine($"  (the blocker was {blockerState} and the watched run {watchedState} once the subscribers had joined; trying again)");
            await clients.AbortAsync();
            await streamHandle.UnsubscribeAsync();
            await http.PostAsync($"/api/v1/nautilus/backtest/cancel/{blocker}", null);
            await WaitForEnd(http, watched);
            return null;
        }

        var go = DateTime.UtcNow;
        Interlocked.Exchange(ref cutoff, go.Ticks);
        var counting = clients.GoAsync(go);
        await http.PostAsync($"/api/v1/nautilus/backtest/cancel/{blocker}", null);
        var received = await counting;
        await Task.Delay(100); // the stream subscriber's last events land
        await streamHandle.UnsubscribeAsync();

        // Every event of the run, as the API's stream input took it in: each subscriber must have had each one.
        var expected = streamLatencies.Count;
        var complete = received.GroupBy(e => e.Client).Count(g => g.Count() == expected && g.Any(e => e.Type == "backtest_complete"));
        Console.WriteLine($"  fan-out latency by event type, {parse} clients (p50 / p99 / max ms): " + string.Join(", ", received.GroupBy(e => e.Type).OrderBy(g => g.Key)
            .Select(g =>
            {
                var stats = ClusterBench.Stats.Of(g.Select(e => e.Ms).ToList());
                return string.Create(CultureInfo.InvariantCulture, $"{g.Key} x{g.Count()} {stats.P50:F1} / {stats.P99:F1} / {stats.Max:F1}");
            })));
        return (ClusterBench.Stats.Of(received.Select(e => e.Ms).ToList()), ClusterBench.Stats.Of(streamLatencies.ToList()), complete, expected);
    }

    private static string? Status(JsonElement status) => status.GetProperty("status").GetString();

    private static async Task<Guid> Start(HttpClient http, string config)
    {
        using var content = new StringContent(config, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/api/v1/nautilus/backtest/start", content);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"start answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    private static async Task WaitForEnd(HttpClient http, Guid id)
    {
        while (Status(await http.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/status/{id}")) is not ("completed" or "failed" or "cancelled"))
        {
            await Task.Delay(50);
        }
    }
}
