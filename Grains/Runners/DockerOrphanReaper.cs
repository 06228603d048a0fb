using Backtesting.Grains.Interfaces;
using Microsoft.Extensions.Logging;

namespace Backtesting.Grains.Runners;

/// <summary>
/// At silo start, finds the containers of this service by label. Those of a backtest that is finished or gone are
/// removed; those of a backtest still active are left to it: its grain reattaches to a running one (see
/// <see cref="DockerRunner"/>) when its recovery reminder restarts the run, and removes a stopped one. The same for an
/// optimization batch's container (labelled <see cref="DockerRunner.BatchKind"/>): kept while its batch has work to do.
/// </summary>
public sealed partial class DockerOrphanReaper(IBacktestRunner runner, IGrainFactory grains, ILogger<DockerOrphanReaper> log)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        if (runner is not DockerRunner)
        {
            return;
        }

        // In the background once the silo is active: a slow daemon must not hold up the silo.
        lifecycle.Subscribe(nameof(DockerOrphanReaper), ServiceLifecycleStage.Active, startup =>
        {
            // Not the start-up token: the reaping continues after the start-up step returns.
            startup.ThrowIfCancellationRequested();
            _ = Task.Run(async () =>
            {
                try
                {
                    await ReapAsync(CancellationToken.None);
                }
                catch (Exception e)
                {
                    LogReapFailed(log, e);
                }
            }, CancellationToken.None);
            return Task.CompletedTask;
        });
    }

    /// <summary>Removes the containers no active backtest can use; returns how many it removed and how many it kept.</summary>
    public async Task<(int Removed, int Kept)> ReapAsync(CancellationToken cancellation)
    {
        var docker = (DockerRunner)runner;
        if (await docker.CheckDaemonAsync(cancellation) is { } unreachable)
        {
            LogDaemonUnreachable(log, unreachable);
            return (0, 0);
        }

        int removed = 0, kept = 0;
        foreach (var container in await docker.ListAsync(null, cancellation))
        {
            if (!container.Labels.TryGetValue(DockerRunner.BacktestLabel, out var label) || !Guid.TryParse(label, out var id))
            {
                continue;
            }

            bool active;
            try
            {
                // A batch's container is its batch's while the batch has work to do: asking it to ensure its run also
                // brings back one whose silo died (it reattaches to the container).
                active = container.Labels.TryGetValue(DockerRunner.KindLabel, out var kind) && kind == DockerRunner.BatchKind
                    ? (await grains.GetGrain<IOptimizationBatchGrain>(id).Ensure()).State is OptimizationBatchState.Queued or OptimizationBatchState.Running
                    : !(await grains.GetGrain<IBacktestGrain>(id).GetStatus()).IsTerminal;
            }
            catch (KeyNotFoundException)
            {
                active = false;
            }

            if (active)
            {
                kept++;
                continue;
            }

            LogRemoving(log, container.ID, container.State, id);
            await docker.RemoveAsync(container.ID, cancellation);
            removed++;
        }

        if (removed + kept > 0)
        {
            LogReaped(log, removed, kept);
        }

        return (removed, kept);
    }
}
