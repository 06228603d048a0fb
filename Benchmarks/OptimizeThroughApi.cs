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

    public sealed record JobFigures(string Runner, int BatchTrials, int Round, int Trials, double FirstStoredSeconds, double CompletedSeconds,
        double GrainTrialsPerSecond, int Batches, string Load);

    /// <summary>Runs <paramref name="rounds"/> jobs per runner and batch size (batch sizes alternate within a round) and prints each.</summary>
    public static async Task<IReadOnlyList<JobFigures>> RunAsync(string jobJson, int plannedTrials, IReadOnlyList<string> runners,
        IReadOnlyList<int> batchSizes, int rounds)
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
            foreach (var batchTrials in batchSizes)
            {
                // A silo per runner and batch size: the batch size is a silo setting (Backtesting:Optimization:BatchTrials).
                var database = "optbench_" + Guid.NewGuid().ToString("N");
                await ClusterBench.Execute(server, $"CREATE DATABASE \"{database}\"");
                var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database, Pooling = true }.ConnectionString;
                var work = Path.Combine(Path.GetTempPath(), "backtesting-optimize-api-" + Guid.NewGuid().ToString("N"));
                try
                {
                    await SchemaMigrator.ApplyAsync(connectionString);
                    var keys = Enumerable.Range(0, rounds).Select(r => $"optbench-key-{r:D2}-0123456789abcdef").ToArray();
                    await using (var dataSource = NpgsqlDataSource.Create(connectionString))
                    {
                        var store = new ApiKeyStore(dataSource);
                        for (var r = 0; r < rounds; r++)
                        {
                            await store.AddKeyAsync($"optbench-{r}", ApiRoles.User, keys[r], null);
                        }
                    }

                    using var silo = await ClusterBench.StartSilo(connectionString, runner, data, work,
                        configure: o => o.Optimization.BatchTrials = batchTrials);
                    var port = ClusterBench.FreePort();
                    await using var api = ApiApp.Build(
                    [
                        $"--ConnectionStrings:Backtesting={connectionString}", "--Api:ExternalClusterClient=true", $"--Api:Urls=http://127.0.0.1:{port}",
                        $"--Backtesting:DataDirectory={data}", "--Logging:LogLevel:Default=Warning", "--Logging:Console:FormatterName=simple",
                    ], services => services.AddSingleton(silo.Services.GetRequiredService<IClusterClient>()));
                    await api.StartAsync();
                    for (var round = 1; round <= rounds; round++)
                    {
                        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
                        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys[round - 1]);
                        var job = await RunJob(http, jobJson, plannedTrials, runner, batchTrials, round);
                        figures.Add(job);
                        Console.WriteLine(Row(job));
                    }

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
            }
        }

        return figures;
    }

    public static string Row(JobFigures f) => string.Create(CultureInfo.InvariantCulture,
        $"round {f.Round} through the API, {f.Runner,-9} runner, batches of {f.BatchTrials,5:N0}: {f.CompletedSeconds,6:F2} s POST -> completed with " +
        $"{f.Trials:N0} trials stored = {f.Trials / f.CompletedSeconds,5:F0} trials/s; first trial stored after {f.FirstStoredSeconds:F2} s; " +
        $"{f.Batches} batches; the job's own rate {f.GrainTrialsPerSecond:F0} trials/s of running time  (load {f.Load})");

    private static async Task<JobFigures> RunJob(HttpClient http, string jobJson, int plannedTrials, string runner, int batchTrials, int round)
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
        return new JobFigures(runner, batchTrials, round, stored, firstStored, completed, progress.GetProperty("trialsPerSecond").GetDouble(),
            batches.GetProperty("total").GetInt32(), load);
    }

    /// <summary>The stored trials of the job as its trials page counts them (one item asked for).</summary>
    private static async Task<int> StoredCount(HttpClient http, Guid id) =>
        (await http.GetFromJsonAsync<JsonElement>($"{Prefix}/{id}/trials?pageSize=1&sort=trial")).GetProperty("totalCount").GetInt32();

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
