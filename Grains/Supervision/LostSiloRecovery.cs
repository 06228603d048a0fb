using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// Brings back at once the runs of a silo the cluster has declared dead, instead of leaving them to their recovery
/// reminders (a period of a minute, and reminders of a dead silo's range move only once the ring has settled). One
/// silo acts, the first active one by address (<see cref="Acts"/>); the reminders remain the safety net when it dies
/// too. Asking a backtest to recover is harmless when it needs nothing: it checks its own state.
/// </summary>
public sealed partial class LostSiloRecovery(IClusterMembershipService membership, ILocalSiloDetails silo, IGrainFactory grains,
    ILogger<LostSiloRecovery> log) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _watching;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LostSiloRecovery), ServiceLifecycleStage.Active,
            _ =>
            {
                _watching = Task.Run(() => Watch(_stopping.Token), CancellationToken.None);
                return Task.CompletedTask;
            },
            async _ =>
            {
                await _stopping.CancelAsync();
                if (_watching is { } watching)
                {
                    await watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            });

    public void Dispose() => _stopping.Dispose();

    private async Task Watch(CancellationToken stopping)
    {
        var known = new HashSet<SiloAddress>(membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress));
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stopping))
            {
                var newlyDead = snapshot.Members.Values
                    .Where(m => m.Status == SiloStatus.Dead && known.Add(m.SiloAddress))
                    .Select(m => m.SiloAddress.ToParsableString())
                    .ToHashSet(StringComparer.Ordinal);
                var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress.ToParsableString());
                if (newlyDead.Count == 0 || !Acts(silo.SiloAddress.ToParsableString(), active))
                {
                    continue;
                }

                await Recover(newlyDead);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The silo is stopping.
        }
    }

    private async Task Recover(IReadOnlySet<string> deadSilos)
    {
        try
        {
            var snapshot = await grains.GetGrain<IBacktestQueueGrain>(0).GetSnapshot();
            var lost = LostOn(snapshot.Running, deadSilos);
            LogRecovering(log, string.Join(", ", deadSilos), lost.Count);
            foreach (var entry in lost)
            {
                var id = entry.BacktestId;
                // A call may still find the dead silo's directory entry just after the declaration: try a few times.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await Recover(entry);
                        break;
                    }
                    catch (Exception e) when (attempt < 3)
                    {
                        LogRecoverRetry(log, e, id, attempt);
                        await Task.Delay(TimeSpan.FromSeconds(1));
                    }
                    catch (Exception e)
                    {
                        // Its reminder will try again.
                        LogRecoverFailed(log, e, id);
                        break;
                    }
                }
            }
        }
        catch (Exception e)
        {
            LogRecoverFailed(log, e, Guid.Empty);
        }
    }

    /// <summary>A backtest recovers its run; an optimization batch runs its recovery check.</summary>
    private Task Recover(RunningEntry entry) => entry.Kind switch
    {
        QueueItemKind.OptimizationBatch => grains.GetGrain<IOptimizationBatchGrain>(entry.BacktestId).Ensure(),
        _ => grains.GetGrain<IBacktestGrain>(entry.BacktestId).RecoverLostRun(),
    };

    /// <summary>Whether this silo is the one that acts: the first of the active silos by address (ordinal), itself included.</summary>
    public static bool Acts(string self, IEnumerable<string> activeSilos)
    {
        var first = activeSilos.Append(self).Min(StringComparer.Ordinal);
        return string.Equals(first, self, StringComparison.Ordinal);
    }

    /// <summary>
    /// The runs (backtests and optimization batches) whose slot was last renewed from one of the dead silos, and the slots
    /// granted but not taken up by any silo yet (their grant may have died with it; asking them is harmless), in the queue's order.
    /// </summary>
    public static IReadOnlyList<RunningEntry> LostOn(IReadOnlyList<RunningEntry> running, IReadOnlySet<string> deadSilos) =>
        [.. running.Where(r => r.Silo is null || deadSilos.Contains(r.Silo))];

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Silos {Silos} were declared dead; recovering the {Count} runs they held")]
    private static partial void LogRecovering(ILogger logger, string silos, int count);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Recovering the run of backtest {Id} failed; its reminder will try again")]
    private static partial void LogRecoverFailed(ILogger logger, Exception exception, Guid id);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Recovering the run of backtest {Id} failed (try {Attempt}); trying again")]
    private static partial void LogRecoverRetry(ILogger logger, Exception exception, Guid id, int attempt);
}
