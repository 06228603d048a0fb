using Backtesting.Engine.Protocol;
using Backtesting.Grains.Interfaces;
using Orleans.Streams;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// A backtest's end is settled whatever the cluster does meanwhile: its slot goes back and its row says what its grain
/// says. The Docker chaos run once ended with every backtest completed and one slot still held: the release at the end
/// was lost (its call failed with the queue's silo), and nothing gave the slot back before its lease ran out (two minutes);
/// and a terminal move whose row write broke off (PostgreSQL restarting) left the row behind the grain for good.
/// </summary>
[Collection("cluster")]
public sealed class EndSettlingTests
{
    [Fact]
    public async Task A_backtest_whose_release_was_lost_gives_its_slot_back_without_waiting_for_its_lease()
    {
        var id = Guid.NewGuid();
        var loser = new ReleaseLoser(id);
        // The default lease (two minutes): only a release tried again frees the slot within the wait for free slots (20 s).
        await using var host = await TestClusterHost.StartAsync(silos: 1, services: s => s.AddSingleton<IIncomingGrainCallFilter>(loser));

        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));
        var ended = await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromSeconds(90));
        await loser.Lost.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(BacktestState.Completed, ended.State);
        await host.WaitForFreeSlots();
        var status = await host.Backtest(id).GetStatus();
        Assert.Equal(BacktestState.Completed, status.State);
        Assert.Null(status.Error);
        Assert.Single(status.History, h => Lifecycle.IsTerminal(h.State));
        Assert.Equal("completed", (await host.Store.GetAsync(id))!.Status);
    }

    [Fact]
    public async Task A_terminal_move_whose_row_write_broke_off_is_written_again_and_the_slot_still_goes_back()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        await using var db = Npgsql.NpgsqlDataSource.Create(host.ConnectionString);
        // Every write of a backtest's row as completed fails as PostgreSQL restarting makes it fail (each refusal counted in a
        // sequence, which a rolled-back statement does not undo), until the test drops the trigger; the grain state is written.
        await using (var trigger = db.CreateCommand("""
            CREATE SEQUENCE completed_row_faults;
            CREATE FUNCTION refuse_completed_row() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM nextval('completed_row_faults'); RAISE EXCEPTION 'terminating connection' USING ERRCODE = '57P01'; END $$;
            CREATE TRIGGER refuse_completed_row BEFORE UPDATE ON backtests FOR EACH ROW
                WHEN (NEW.status = 'completed') EXECUTE FUNCTION refuse_completed_row();
            """))
        {
            await trigger.ExecuteNonQueryAsync();
        }

        var id = Guid.NewGuid();
        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        long faults;
        do
        {
            await Task.Delay(100);
            await using var read = db.CreateCommand("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM completed_row_faults");
            faults = (long)(await read.ExecuteScalarAsync())!;
        }
        while (faults < 2 && DateTime.UtcNow < deadline);

        Assert.True(faults >= 2, $"the completed row was written {faults} time(s)");
        Assert.NotEqual("completed", (await host.Store.GetAsync(id))!.Status);
        await using (var drop = db.CreateCommand("DROP TRIGGER refuse_completed_row ON backtests"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        var status = await host.WaitFor(id, s => s.IsTerminal);
        Assert.Equal(BacktestState.Completed, status.State);
        Assert.Single(status.History, h => Lifecycle.IsTerminal(h.State));
        var rowDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string? row;
        while ((row = (await host.Store.GetAsync(id))!.Status) != "completed" && DateTime.UtcNow < rowDeadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal("completed", row);
        await host.WaitForFreeSlots();
        Assert.NotNull(await host.Backtest(id).GetResults());
    }

    /// <summary>
    /// The recovery of an ended backtest (its reminder, or the recovery of a dead silo's runs) announces its end again: the
    /// silo that stored the end may have died before announcing it, and a subscriber must hear a completion (issue 18: the
    /// chaos run's recovered backtests were stored and released, and never announced). A repeated end is harmless.
    /// </summary>
    [Fact]
    public async Task The_recovery_of_an_ended_backtest_announces_its_end_again()
    {
        await using var host = await TestClusterHost.StartAsync(silos: 1);
        var id = Guid.NewGuid();
        var completions = new List<string>();
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = host.Client.GetStreamProvider(StreamNames.Provider).GetStream<BacktestEvent>(StreamId.Create(StreamNames.Namespace, id));
        var subscription = await stream.SubscribeAsync((e, _) =>
        {
            if (e.Type == MessageTypes.Complete)
            {
                lock (completions)
                {
                    completions.Add(e.Json);
                    if (completions.Count == 2)
                    {
                        second.TrySetResult();
                    }
                }
            }

            return Task.CompletedTask;
        });

        await host.Backtest(id).Submit(ClusterTests.Submission(ClusterTests.Daily));
        Assert.Equal(BacktestState.Completed, (await host.WaitFor(id, s => s.IsTerminal, TimeSpan.FromSeconds(90))).State);
        await host.WaitForFreeSlots();
        // What the recovery of a silo that died after storing the end does.
        await host.Backtest(id).RecoverLostRun();
        await second.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await subscription.UnsubscribeAsync();

        lock (completions)
        {
            Assert.All(completions, json => Assert.Contains("\"status\":\"completed\"", json, StringComparison.Ordinal));
        }

        var status = await host.Backtest(id).GetStatus();
        Assert.Equal(BacktestState.Completed, status.State);
        Assert.Single(status.History, h => Lifecycle.IsTerminal(h.State));
    }

    /// <summary>Fails the queue's first release of one backtest as a call to a silo that just died fails, without releasing.</summary>
    private sealed class ReleaseLoser(Guid target) : IIncomingGrainCallFilter
    {
        private int _left = 1;

        public TaskCompletionSource Lost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.MethodName == nameof(IBacktestQueueGrain.Release) && context.Request.GetArgument(0) is Guid id && id == target
                && Interlocked.Decrement(ref _left) >= 0)
            {
                Lost.TrySetResult();
                throw new SiloUnavailableException("The target silo became unavailable (the queue's silo died)");
            }

            return context.Invoke();
        }
    }
}
