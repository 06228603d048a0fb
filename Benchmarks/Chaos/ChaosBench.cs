using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Engine.Results;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Backtesting.Tests;
using Backtesting.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Backtesting.Benchmarks.Chaos;

/// <summary>
/// <c>Benchmarks -- chaos</c> (issue 18 §1 and §3). The system as an operator runs it, every part a process: three silos
/// (<see cref="SiloProcesses"/>) on a PostgreSQL of the run's own (<see cref="OwnPostgres"/>, so it can be restarted), the
/// chosen runner (Docker by default, on the checkout's daemon from scripts/docker.sh) and the API. The load goes in as a
/// burst through the API; the faults follow on a schedule; once they stop the run drains, and <see cref="ChaosChecks"/>
/// checks what a user relies on. The harness code is the chaos test's own (Tests/Cluster, compiled in, not copied).
/// </summary>
internal static partial class ChaosBench
{
    private static readonly string[] Owners = ["alice", "bob", "carol"];
    private static readonly TimeSpan RecoveryReminder = TimeSpan.FromSeconds(30);
    /// <summary>After a fault ends, how long its effects may last before an answer counts as "outside fault windows".</summary>
    private static readonly TimeSpan WindowTail = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = ChaosOptions.Parse(args);
        var root = RepositoryRoot.Find();
        if (options.Runner == "docker")
        {
            await DockerBench.EnsureDocker(root);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"chaos: {options.Backtests} backtests, {options.Jobs} x {options.Trials} trials, {options.Runner} runner, {options.Kills} silo kills every {options.KillEvery.TotalSeconds} s, " +
            $"{options.ContainerKills} container kills, {options.Clients} polling clients, {options.Subscribers} subscribers; load at start {Load()}"));
        using var logs = new TempFolder();
        using var work = new TempFolder();
        using var postgres = await OwnPostgres.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync("chaos");
        await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
        var keys = Owners.ToDictionary(o => o, o => $"chaos-{o}-{Guid.NewGuid():N}");
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            foreach (var (owner, key) in keys)
            {
                await new ApiKeyStore(dataSource).AddKeyAsync(owner, ApiRoles.User, key, null);
            }
        }

        var clusterId = "chaos-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string>
        {
            ["Backtesting__MaxConcurrent"] = options.ClusterLimit.ToString(CultureInfo.InvariantCulture),
            ["Backtesting__MaxConcurrentPerOwner"] = options.OwnerLimit.ToString(CultureInfo.InvariantCulture),
            ["Backtesting__Runner"] = options.Runner,
            ["Backtesting__DataDirectory"] = Path.Combine(root, "data", "lean"),
        };
        if (options.Runner == "docker")
        {
            settings["Backtesting__Docker__Endpoint"] = Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "";
        }

        var silos = new List<SiloProcess>();
        SiloProcess StartSilo() => SiloProcesses.Start(connectionString, clusterId, work.Path, logs, RecoveryReminder, settings);
        for (var i = 0; i < 3; i++)
        {
            silos.Add(StartSilo());
        }

        using var api = ApiProcess.Start(connectionString, clusterId, Path.Combine(root, "data", "lean"), logs);
        var clientHost = await SiloProcesses.ConnectClient(connectionString, clusterId);
        var client = clientHost.Services.GetRequiredService<IClusterClient>();
        await api.WaitReady();
        var run = new Run(options, client, api.Base, keys);
        try
        {
            return await run.Execute(silos, StartSilo, postgres, connectionString, work.Path, root);
        }
        finally
        {
            await run.DisposeAsync();
            await clientHost.StopAsync();
            clientHost.Dispose();
            foreach (var silo in silos)
            {
                silo.Dispose();
            }

            NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>A fault as it happened: its kind, when it began and ended, and the backtests it hit.</summary>
    internal sealed record Fault(string Kind, DateTime Began, DateTime Ended, IReadOnlyList<Guid> Affected)
    {
        public ConcurrentBag<double> RecoverySeconds { get; } = [];
    }

    /// <summary>
    /// Five-year daily runs of one strategy in <paramref name="distinct"/> settings (so the fault-free references are few and
    /// cheap), each backtest one of them with the result cache off, so every one really runs.
    /// </summary>
    internal static string Daily(int i) => """
        {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":FAST,"slowPeriod":SLOW},
         "startDate":"2015-01-01","endDate":"2019-12-31","instruments":["SPY"],"initialBalance":100000,
         "executionSettings":{"commission":{"model":"percent","rate":0.001}},
         "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":100}}}
        """.Replace("FAST", (5 + i % 10).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("SLOW", (30 + i).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    internal static string JobJson(int trials) => JsonNode.Parse("""
        {"name":"chaos grid","baseConfig":{"strategyClass":"MovingAverageCross","strategyConfig":{"maType":"SMA"},
          "startDate":"2016-01-01","endDate":"2020-12-31","instruments":["SPY"],"initialBalance":100000,
          "dataConfiguration":{"resolution":"daily","adjustment":"splitDividend"},
          "executionSettings":{"fillModel":"nextBarOpen","commission":{"model":"percent","rate":0.001}}},
         "parameters":{"fastPeriod":{"min":1,"max":50,"step":1},"slowPeriod":{"min":51,"max":250,"step":1}},
         "method":"grid","objective":{"metric":"sharpeRatio","direction":"maximize"}}
        """)!.AsObject().Also(j => j["maxTrials"] = trials).ToJsonString();

    private static JsonObject Also(this JsonObject json, Action<JsonObject> change)
    {
        change(json);
        return json;
    }

    internal static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    internal static (double P50, double P99, double Max) Percentiles(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        var sorted = values.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return (At(0.50), At(0.99), sorted[^1]);
    }

    /// <summary>The API as a process of its own (Backtesting.Api.dll beside this program), on a free loopback port.</summary>
    private sealed class ApiProcess(Process process, Uri address) : IDisposable
    {
        public Uri Base { get; } = address;

        public static ApiProcess Start(string connectionString, string clusterId, string data, TempFolder logs)
        {
            var port = SiloProcesses.FreePort();
            var dll = Path.Combine(AppContext.BaseDirectory, "Backtesting.Api.dll");
            var log = logs.File($"api-{port}.log");
            var info = new ProcessStartInfo("bash", ["-c", $"exec dotnet \"{dll}\" > \"{log}\" 2>&1"])
            {
                UseShellExecute = false,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            info.Environment["ConnectionStrings__Backtesting"] = connectionString;
            info.Environment["Silo__ClusterId"] = clusterId;
            info.Environment["Api__Urls"] = $"http://127.0.0.1:{port}";
            info.Environment["Api__StartsPerWindow"] = "1000000";
            info.Environment["Backtesting__DataDirectory"] = data;
            info.Environment["Logging__LogLevel__Default"] = "Warning";
            return new ApiProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{port}"));
        }

        public async Task WaitReady()
        {
            using var http = new HttpClient { BaseAddress = Base, Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (true)
            {
                try
                {
                    using var ready = await http.GetAsync("/health/ready");
                    if (ready.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                if (DateTime.UtcNow > deadline || process.HasExited)
                {
                    throw new InvalidOperationException("the API process never became ready");
                }

                await Task.Delay(500);
            }
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }
    }

    /// <summary>Posts through the API, retrying a 503 as its Retry-After says; anything else but success ends the run.</summary>
    internal static async Task<JsonElement> Post(HttpClient http, string route, string json)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            HttpResponseMessage response;
            try
            {
                response = await http.PostAsync(route, content);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
                continue;
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    return JsonDocument.Parse(body).RootElement.Clone();
                }

                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"POST {route} answered {(int)response.StatusCode}: {body}");
                }

                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
            }
        }
    }

    internal static HttpClient Http(Uri api, string key)
    {
        var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(1) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }
}
