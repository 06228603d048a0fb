using System.Globalization;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// How long a run has waited for an unreachable cluster: an unbroken run of cluster-unreachable faults
/// (<see cref="RunInterruptions.ClusterUnreachableOutcome"/>) is timed from its first, and broken only once the cluster
/// answers (<see cref="Answered"/>: a renewal, a recovery step that held). A database or runner's-daemon fault in between
/// neither starts the clock nor stops it (those are waited for by their own rules). Past <see cref="Grace"/> the run gives
/// up: <see cref="Interruption"/> no longer names the fault, and the backtest or batch fails with it. One per activation of
/// a backtest or a batch; a grain's turns call it one at a time.
/// </summary>
public sealed class UnreachableWait(TimeSpan grace)
{
    private DateTime? _since;

    /// <summary>How long an unreachable cluster is waited for (<c>Backtesting:ClusterUnreachableGrace</c>).</summary>
    public TimeSpan Grace => grace;

    /// <summary>When the unbroken run of cluster-unreachable faults began (null: none since the cluster last answered).</summary>
    public DateTime? Since => _since;

    /// <summary>
    /// What interrupted the run when <paramref name="exception"/>, met at <paramref name="now"/>, is the cluster's passing
    /// fault and is still waited for (<see cref="RunInterruptions.StillWaited"/>); null when it is the run's own, or the
    /// cluster has been unreachable past the grace. A cluster-unreachable fault starts the clock if it is not running.
    /// </summary>
    public string? Interruption(Exception exception, DateTime now)
    {
        if (RunInterruptions.Of(exception) is not { } outcome)
        {
            return null;
        }

        if (outcome == RunInterruptions.ClusterUnreachableOutcome)
        {
            _since ??= now;
        }

        return RunInterruptions.StillWaited(outcome, now - (_since ?? now), grace) ? outcome : null;
    }

    /// <summary>
    /// Whether the run gives up on <paramref name="exception"/> met at <paramref name="now"/>: a passing fault of the cluster
    /// (<see cref="RunInterruptions.Of"/>) no longer waited for, the cluster unreachable past the grace.
    /// </summary>
    public bool GivesUp(Exception exception, DateTime now) => Interruption(exception, now) is null && RunInterruptions.Of(exception) is not null;

    /// <summary>Why a run that gave up on <paramref name="exception"/> failed: the grace and the fault's own words.</summary>
    public string GiveUpReason(Exception exception)
    {
        var fault = exception.GetBaseException().Message;
        return grace >= TimeSpan.FromMinutes(1)
            ? string.Create(CultureInfo.InvariantCulture, $"the cluster could not be reached for {grace.TotalMinutes:0.#} minutes ({fault})")
            : string.Create(CultureInfo.InvariantCulture, $"the cluster could not be reached for {grace.TotalSeconds:0.#} seconds ({fault})");
    }

    /// <summary>The cluster answered: the run of unreachable faults is over, the next one is timed from its own first.</summary>
    public void Answered() => _since = null;
}
