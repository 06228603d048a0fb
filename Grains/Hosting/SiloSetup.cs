using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Backtesting.Grains.Hosting;

/// <summary>Everything a silo of this cluster needs, in one call: providers on PostgreSQL, streams, services.</summary>
public static partial class SiloSetup
{
    public const string Invariant = "Npgsql";

    /// <param name="adoNetClustering">
    /// Membership in PostgreSQL; false only for an in-process test cluster, which brings its own membership.
    /// </param>
    public static ISiloBuilder AddBacktestingCluster(this ISiloBuilder silo, string connectionString,
        Action<BacktestClusterOptions>? configure = null, bool adoNetClustering = true)
    {
        connectionString = WithBoundedPool(connectionString);
        if (adoNetClustering)
        {
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
        }

        silo.AddAdoNetGrainStorage("Default", o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        // Explicit stream subscriptions (the API's relay) keep their bookkeeping here.
        silo.AddAdoNetGrainStorage("PubSubStore", o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = Invariant;
            o.ConnectionString = connectionString;
        });
        // Live progress: the pulling agent checks its queues every 10 ms rather than the default 100 ms, which
        // would otherwise be the floor of every event's latency.
        silo.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigurePullingAgent(agent =>
            agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(10))));

        var services = silo.Services;
        services.AddBacktestingSerialization();
        var options = services.AddOptions<BacktestClusterOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // A setting that cannot mean anything stops the silo as it starts, naming the setting (not the first job it would refuse).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BacktestClusterOptions>, BacktestClusterOptionsValidator>());
        options.ValidateOnStart();

        // One data source (one pool) for the silo's stores, created and disposed by the container.
        services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(connectionString));
        services.AddSingleton<IBacktestStore>(sp => new PostgresBacktestStore(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        services.AddSingleton<IStrategyStore>(sp => new PostgresStrategyStore(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        services.AddSingleton(sp => new PostgresOptimizationStore(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        services.AddSingleton(sp => new PostgresStrategyAssemblyStore(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        services.AddSingleton(sp => new PostgresWalkForwardStore(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()));
        services.AddSingleton<IMarketDataProvider>(sp =>
        {
            var configured = sp.GetRequiredService<IOptions<BacktestClusterOptions>>().Value.DataDirectory;
            var root = DataRoot.Locate(string.IsNullOrEmpty(configured) ? null : configured)
                ?? throw new DirectoryNotFoundException("no market data folder: set Backtesting:DataDirectory or BACKTESTING_DATA");
            return new LeanDataProvider(root);
        });
        services.AddSingleton(StrategyCatalog.Templates);
        services.AddSingleton(sp => CompileScheduler.From(sp.GetRequiredService<IOptions<BacktestClusterOptions>>().Value));
        services.TryAddSingleton<IBacktestRunner>(sp =>
        {
            var kind = sp.GetRequiredService<IOptions<BacktestClusterOptions>>().Value.Runner;
            // Case-insensitive, as configuration keys are: "InProcess" or "DOCKER" in an environment variable work.
            return kind.ToLowerInvariant() switch
            {
                "inprocess" => new InProcessRunner(sp.GetRequiredService<IMarketDataProvider>()),
                "process" => new ProcessRunner(WorkerCommandOf(sp.GetRequiredService<IOptions<BacktestClusterOptions>>().Value),
                    ProcessRunnerSettings.From(sp.GetRequiredService<IOptions<BacktestClusterOptions>>().Value)),
                "docker" => CreateDockerRunner(sp),
                _ => throw new InvalidOperationException($"Backtesting:Runner '{kind}' is not known (inProcess, process, docker)"),
            };
        });
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DockerOrphanReaper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Supervision.LostSiloRecovery>();
        return silo;
    }

    /// <summary>
    /// The Docker runner on the configured daemon. When the daemon does not answer and Backtesting:Docker:
    /// FallbackToProcess is set, the silo runs backtests as local processes instead (and says so in its log);
    /// otherwise it keeps the Docker runner, and each backtest that needs it fails at once with the reason.
    /// </summary>
    private static IBacktestRunner CreateDockerRunner(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<BacktestClusterOptions>>().Value;
        var serviceId = sp.GetRequiredService<IOptions<Orleans.Configuration.ClusterOptions>>().Value.ServiceId;
        var runner = new DockerRunner(options.Docker, serviceId, sp.GetRequiredService<ILogger<DockerRunner>>())
        {
            WorkDirectory = options.WorkDirectory,
        };
        if (!options.Docker.FallbackToProcess)
        {
            return runner;
        }

        // Resolved once, while the silo starts (not on a grain's turn): waiting for the answer here is fine.
        var unreachable = runner.CheckDaemonAsync().GetAwaiter().GetResult();
        if (unreachable is null)
        {
            return runner;
        }

        LogDockerFallback(sp.GetRequiredService<ILogger<DockerRunner>>(), unreachable);
        runner.Dispose();
        return new ProcessRunner(WorkerCommandOf(options));
    }

    private static WorkerCommand WorkerCommandOf(BacktestClusterOptions options) =>
        WorkerCommand.For(options.WorkerPath, Environment.CurrentDirectory);

    /// <summary>Connections one pool of a silo may hold unless the connection string says otherwise.</summary>
    public const int DefaultMaxPoolSize = 30;

    /// <summary>
    /// A silo opens two pools on its connection string (Orleans' providers and the results store). Npgsql's
    /// default of 100 each lets a burst of submissions on a few silos exhaust PostgreSQL's connections, so the
    /// pools are bounded unless the string sets a size itself.
    /// </summary>
    public static string WithBoundedPool(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("pool size", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        return builder.ConnectionString;
    }
}
