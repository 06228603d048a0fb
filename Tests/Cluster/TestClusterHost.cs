using Backtesting.Grains;
using Backtesting.Grains.Hosting;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// A cluster of silos in this process on the project's own AdoNet scripts and a fresh PostgreSQL database:
/// the real providers for membership, grain state, reminders and pub-sub, never in-memory stand-ins.
/// </summary>
public sealed class TestClusterHost : IAsyncDisposable
{
    private readonly TempFolder _work = new();

    private TestClusterHost(InProcessTestCluster cluster, string connectionString)
    {
        Cluster = cluster;
        ConnectionString = connectionString;
    }

    public InProcessTestCluster Cluster { get; }
    public string ConnectionString { get; }
    public IClusterClient Client => Cluster.Client;
    public IBacktestStore Store => new PostgresBacktestStore(ConnectionString);

    public static async Task<TestClusterHost> StartAsync(int silos = 2, Action<BacktestClusterOptions>? configure = null,
        Action<IServiceCollection>? services = null)
    {
        var connectionString = await PostgresTestServer.CreateDatabaseAsync("cluster");
        await SchemaMigrator.ApplyAsync(connectionString, CancellationToken.None);
        var work = Path.Combine(Path.GetTempPath(), "backtesting-cluster-" + Guid.NewGuid().ToString("N"));
        var builder = new InProcessTestClusterBuilder((short)silos);
        // Membership is the test cluster's own (its option to turn that off is not public); grain state,
        // reminders and pub-sub run on the project's AdoNet scripts. The crash test covers AdoNet membership.
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddBacktestingCluster(connectionString, o =>
            {
                QuickOptions(o, work);
                configure?.Invoke(o);
            }, adoNetClustering: false);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            services?.Invoke(silo.Services);
        });
        builder.ConfigureClient(client =>
        {
            client.AddMemoryStreams(StreamNames.Provider);
            client.Services.AddBacktestingSerialization();
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new TestClusterHost(cluster, connectionString);
    }

    /// <summary>
    /// The options of a silo a test starts: the in-process runner over the test data, and supervision, checkpoints and
    /// recovery reminders fast enough that a fault is seen and recovered within a test.
    /// </summary>
    public static void QuickOptions(BacktestClusterOptions options, string work)
    {
        options.Runner = "inProcess";
        options.DataDirectory = TestPaths.LeanData;
        options.WorkDirectory = work;
        options.SupervisionTick = TimeSpan.FromMilliseconds(500);
        options.CheckpointInterval = TimeSpan.FromMilliseconds(200);
        options.RecoveryReminderPeriod = TimeSpan.FromSeconds(2);
    }

    public IBacktestGrain Backtest(Guid id) => Client.GetGrain<IBacktestGrain>(id);

    public IBacktestQueueGrain Queue => Client.GetGrain<IBacktestQueueGrain>(0);

    /// <summary>
    /// Waits until the queue holds no running slot, failing the test after 20 s. A run's slot is released just after
    /// its terminal state is stored (the state first, so a client never sees a freed slot for a run still going): a
    /// status poll can see the end a moment before the release.
    /// </summary>
    public async Task WaitForFreeSlots()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await Queue.GetSnapshot()).Running is { Count: > 0 } running)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the slot of {running[0].BacktestId} was not released");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls the status until the predicate holds (or fails the test after the timeout).</summary>
    public async Task<BacktestStatus> WaitFor(Guid id, Func<BacktestStatus, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        BacktestStatus status;
        do
        {
            status = await Backtest(id).GetStatus();
            if (predicate(status))
            {
                return status;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"backtest {id} stayed {status.State} ({status.History.Count} changes, last: {status.History[^1].Detail})");
    }

    /// <summary>Retries a call while the client reconnects after silos restarted.</summary>
    public async Task<T> Retry<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (attempt < 100 && e is Orleans.Runtime.OrleansException or TimeoutException or Orleans.Runtime.SiloUnavailableException)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _work.Dispose();
        await PostgresTestServer.DropDatabaseAsync(ConnectionString);
    }
}
