using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Api.Hosting;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Backtesting.Benchmarks;

/// <summary>
/// <c>optimize --through api</c>: the issue-15 grid as a user runs it. One real silo (the runner asked for) on a fresh
/// PostgreSQL database and the API in this process on a real Kestrel port, started as <see cref="ApiBench"/> and
/// <see cref="ClusterBench"/> start them; the job is posted to <c>POST /api/v1/optimizations</c> and followed through
/// <c>GET</c>s only. Measured from just before the POST: the first trial stored (the trials page's totalCount turns
/// positive, polled every 20 ms), and the status <c>completed</c> (polled every 50 ms), after which the stored count must
/// be the planned count. Each job is a user of its own, so the start limit never interferes.
/// </summary>
internal static class OptimizeThroughApi
{
    private const string Prefix = "/api/v1/optimizations";

    /// <param name="BatchTrials">The setting Backtesting:Optimization:BatchTrials; null: unset (the sizing rule).</param>
    /// <param name="BatchCpus">The setting Backtesting:Optimization:BatchCpus; null: unset (its default).</param>
    public sealed record JobFigures(string Runner, int? BatchTrials, double? BatchCpus, int Round, int Trials, double FirstStoredSeconds, double CompletedSeconds,
        double GrainTrialsPerSecond, int Batches, string Sizing, string Load);

    /// <summary>
    /// Runs <paramref name="rounds"/> jobs per runner and setting and prints each. The batch size and a batch's CPU grant are
    /// silo settings (Backtesting:Optimization:BatchTrials, BatchCpus; null leaves one unset), so each pair has a silo,
    /// database and API of its own, all started before the first job; within a round the pairs take turns, so each sees the
    /// same machine.
    /// </summary>
    public static async Task<IReadOnlyList<JobFigures>> RunAsync(string jobJson, int plannedTrials, IReadOnlyList<string> runners,
        IReadOnlyList<int?> batchSizes, IReadOnlyList<double?> batchCpus, int rounds)
    {
        var root = RepositoryRoot.Find();
        var data = Path.Combine(root, "data", "lean");
        if (runners.Contains("docker", StringComparer.OrdinalIgnoreCase))
        {
            await DockerBench.EnsureDocker(root);
        }

        var server = await ClusterBench.PostgresServer();
        var figures = new List<JobFigures>();
        foreach (var runner in runners)
        {
            var stacks = new List<Stack>();
            try
            {
                foreach (var batchTrials in batchSizes)
                {
                    // A batch's container CPU grant matters to the Docker runner only.
                    foreach (var cpus in runner == "docker" ? batchCpus : [null])
                    {
                        stacks.Add(await Stack.StartAsync(server, runner, data, batchTrials, cpus, rounds));
                    }
                }

                for (var round = 1; round <= rounds; round++)
                {
                    foreach (var stack in stacks)
                    {
                        using var http = stack.Client(round);
                        var job = await RunJob(http, jobJson, plannedTrials, runner, stack.BatchTrials, stack.BatchCpus, round);
                        figures.Add(job);
                        Console.WriteLine(Row(job));
                    }
                }
            }
            finally
            {
                foreach (var stack in stacks)
                {
                    await stack.DisposeAsync();
                }
            }
        }

        return figures;
    }

    /// <summary>One silo (the runner, the batch size) on a fresh database and the API before it, with a user key per round.</summary>
    private sealed class Stack : IAsyncDisposable
    {
        private readonly string _server;
        private readonly string _database;
        private readonly string _work;
        private IHost? _silo;
        private Microsoft.AspNetCore.Builder.WebApplication? _api;
        private int _port;

        private Stack(string server, string database, string work, int? batchTrials, double? batchCpus)
        {
            BatchCpus = batchCpus;
            _server = server;
            _database = database;
            _work = work;
            BatchTrials = batchTrials;
        }

        public int? BatchTrials { get; }

        public double? BatchCpus { get; }

        public static async Task<Stack> StartAsync(string server, string runner, string data, int? batchTrials, double? batchCpus, int rounds)
        {
            var stack = new Stack(server, "optbench_" + Guid.NewGuid().ToString("N"),
                Path.Combine(Path.GetTempPath(), "backtesting-optimize-api-" + Guid.NewGuid().ToString("N")), batchTrials, batchCpus);
            try
            {
                await ClusterBench.Execute(server, $"CREATE DATABASE \"{stack._database}\"");
                var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = stack._database, Pooling = true }.ConnectionString;
                await SchemaMigrator.ApplyAsync(connectionString);
                await using (var dataSource = NpgsqlDataSource.Create(connectionString))
                {
                    var store = new ApiKeyStore(dataSource);
                    for (var r = 1; r <= rounds; r++)
                    {
                        await store.AddKeyAsync($"optbench-{r}", ApiRoles.User, Key(r), null);
                    }
                }

                stack._silo = await ClusterBench.StartSilo(connectionString, runner, data, stack._work, configure: o =>
                {
                    if (batchTrials is { } size)
                    {
                        o.Optimization.BatchTrials = size;
                    }

                    if (batchCpus is { } cpus)
                    {
                        o.Optimization.BatchCpus = cpus;
                    }
                });
                stack._port = ClusterBench.FreePort();
                stack._api = ApiApp.Build(
                [
                    $"--ConnectionStrings:Backtesting={connectionString}", "--Api:ExternalClusterClient=true", $"--Api:Urls=http://127.0.0.1:{stack._port}",
                    $"--Backtesting:DataDirectory={data}", "--Logging:LogLevel:Default=Warning", "--Logging:Console:FormatterName=simple",
                ], services => services.AddSingleton(stack._silo.Services.GetRequiredService<IClusterClient>()));
                await stack._api.StartAsync();
                return stack;
            }
            catch
            {
                await stack.DisposeAsync();
                throw;
            }
        }

        /// <summary>An HTTP client of round <paramref name="round"/>'s user.</summary>
        public HttpClient Client(int round)
        {
            var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}"), Timeout = TimeSpan.FromMinutes(2) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key(round));
            return http;
        }

        public async ValueTask DisposeAsync()
        {
            if (_api is not null)
            {
                await _api.StopAsync();
                await _api.DisposeAsync();
            }

            if (_silo is not null)
            {
                await _silo.StopAsync();
                _silo.Dispose();
            }

            NpgsqlConnection.ClearAllPools();
            await ClusterBench.Execute(_server, $"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
            if (Directory.Exists(_work))
            {
                Directory.Delete(_work, recursive: true);
            }
        }

        private static string Key(int round) => $"optbench-key-{round:D2}-0123456789abcdef";
    }

    public static string Row(JobFigures f) => string.Create(CultureInfo.InvariantCulture,
        $"round {f.Round} through the API, {f.Runner,-9} runner, BatchTrials {f.BatchTrials?.ToString(CultureInfo.InvariantCulture) ?? "auto",5} BatchCpus {f.BatchCpus?.ToString(CultureInfo.InvariantCulture) ?? "auto",4} ({f.Sizing}): {f.CompletedSeconds,6:F2} s POST -> completed with " +
        $"{f.Trials:N0} trials stored = {f.Trials / f.CompletedSeconds,5:F0} trials/s; first trial stored after {f.FirstStoredSeconds:F2} s; " +
        $"{f.Batches} batches; the job's own rate {f.GrainTrialsPerSecond:F0} trials/s of running time  (load {f.Load})");

    private static async Task<JobFigures> RunJob(HttpClient http, string jobJson, int plannedTrials, string runner, int? batchTrials, double? batchCpus,
        int round)
    {
        var clock = Stopwatch.StartNew();
        using var content = new StringContent(jobJson, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(Prefix, content);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"POST {Prefix} answered {(int)response.StatusCode}: {body}");
        }

        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
        while (await StoredCount(http, id) == 0)
        {
            await Task.Delay(20);
        }

        var firstStored = clock.Elapsed.TotalSeconds;
        JsonElement status;
        while (true)
        {
            status = await http.GetFromJsonAsync<JsonElement>($"{Prefix}/{id}");
            if (status.GetProperty("status").GetString() is "completed" or "failed" or "cancelled")
            {
                break;
            }

            await Task.Delay(50);
        }

        var completed = clock.Elapsed.TotalSeconds;
        var load = Load();
        var word = status.GetProperty("status").GetString();
        var stored = await StoredCount(http, id);
        if (word != "completed" || stored != plannedTrials)
        {
            throw new InvalidOperationException($"the job ended {word} with {stored} of {plannedTrials} trials stored: {status.GetProperty("errorMessage")}");
        }

        var progress = status.GetProperty("progress");
        var batches = status.GetProperty("batches");
        // What the job chose: the history's queued entry says "N trial(s) planned, M a batch[, C CPU(s) each]".
        var sizing = status.GetProperty("history").EnumerateArray().Select(h => h.TryGetProperty("detail", out var d) ? d.GetString() : null)
            .FirstOrDefault(d => d is not null && d.Contains(" a batch", StringComparison.Ordinal)) ?? "?";
        return new JobFigures(runner, batchTrials, batchCpus, round, stored, firstStored, completed, progress.GetProperty("trialsPerSecond").GetDouble(),
            batches.GetProperty("total").GetInt32(), sizing, load);
    }

    /// <summary>The stored trials of the job as its trials page counts them (one item asked for).</summary>
    private static async Task<int> StoredCount(HttpClient http, Guid id) =>
        (await http.GetFromJsonAsync<JsonElement>($"{Prefix}/{id}/trials?pageSize=1&sort=trial")).GetProperty("totalCount").GetInt32();

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
