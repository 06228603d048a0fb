using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Supervision;

namespace Backtesting.Tests.Cluster;

/// <summary>Which silo acts on a silo's death, and which runs it brings back.</summary>
public class LostSiloRecoveryTests
{
    private static RunningEntry Entry(Guid id, string? silo, QueueItemKind kind = QueueItemKind.Backtest) =>
        new(id, "alice", BacktestPriority.Normal, DateTime.UtcNow, DateTime.UtcNow.AddMinutes(1), silo, kind);

    [Theory]
    [InlineData("S127.0.0.1:11111:1", new[] { "S127.0.0.1:11112:1", "S127.0.0.1:11113:1" }, true)]
    [InlineData("S127.0.0.1:11112:1", new[] { "S127.0.0.1:11111:1", "S127.0.0.1:11112:1" }, false)]
    [InlineData("S127.0.0.1:11112:1", new string[0], true)]
    [InlineData("S127.0.0.1:11111:2", new[] { "S127.0.0.1:11111:1" }, false)]
    public void Exactly_the_first_active_silo_by_address_acts(string self, string[] active, bool acts) =>
        Assert.Equal(acts, LostSiloRecovery.Acts(self, active));

    [Fact]
    public void Among_any_set_of_active_silos_exactly_one_acts()
    {
        string[] silos = ["S127.0.0.1:11111:5", "S127.0.0.1:11112:3", "S10.0.0.1:11111:9", "S127.0.0.1:11111:4"];
        for (var mask = 1; mask < 1 << silos.Length; mask++)
        {
            var active = silos.Where((_, i) => (mask & (1 << i)) != 0).ToArray();
            Assert.Single(active, s => LostSiloRecovery.Acts(s, active));
        }
    }

    [Fact]
    public void The_runs_last_renewed_from_a_dead_silo_and_the_grants_not_taken_up_come_back_in_queue_order_and_no_others()
    {
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), c = Guid.NewGuid(), d = Guid.NewGuid();
        var running = new[] { Entry(a, "S1"), Entry(b, "S2", QueueItemKind.OptimizationBatch), Entry(c, null), Entry(d, "S1", QueueItemKind.OptimizationBatch) };

        // c's grant was taken up by no silo yet: it may have died with any of them, so every death asks it too.
        Assert.Equal([a, c, d], LostSiloRecovery.LostOn(running, new HashSet<string> { "S1" }).Select(r => r.BacktestId));
        Assert.Equal([a, b, c, d], LostSiloRecovery.LostOn(running, new HashSet<string> { "S1", "S2" }).Select(r => r.BacktestId));
        Assert.Equal([c], LostSiloRecovery.LostOn(running, new HashSet<string> { "S3" }).Select(r => r.BacktestId));
        // Batches come back too, keeping their kind so the right grain is asked.
        Assert.Equal([QueueItemKind.Backtest, QueueItemKind.Backtest, QueueItemKind.OptimizationBatch],
            LostSiloRecovery.LostOn(running, new HashSet<string> { "S1" }).Select(r => r.Kind));
    }
}
