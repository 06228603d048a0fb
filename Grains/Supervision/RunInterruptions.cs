using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Orleans.Networking.Shared;
using Orleans.Runtime.MembershipService;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace Backtesting.Grains.Supervision;

/// <summary>
/// Which faults met while a run is started, supervised or wound up are the cluster's passing faults rather than the run's:
/// PostgreSQL away for a moment (<see cref="DatabaseFaults"/>), a silo of the cluster unreachable (<see cref="ClusterFaults"/>
/// and an Orleans call's response timeout, <see cref="IsResponseTimeout"/>), or the runner's daemon restarting
/// (<see cref="RunnerInterruptedException"/>). Such a fault never fails a backtest or a batch at once: the run is taken up
/// again once the cluster answers. An unreachable cluster is waited for a grace (<see cref="StillWaited"/>,
/// <c>Backtesting:ClusterUnreachableGrace</c>, timed by <see cref="UnreachableWait"/>), after which the run gives up. Any
/// other fault is the run's own, an Orleans one too (a serializer that has no codec, a configuration, another activation's
/// write, a grain method's exception): it fails the run with its real error at once rather than after the grace. The
/// exception is looked through (inner and aggregated exceptions), since callers wrap it.
/// </summary>
public static class RunInterruptions
{
    /// <summary>The outcome of an attempt a silo of the cluster could not be reached for (its run is started again).</summary>
    public const string ClusterUnreachableOutcome = "cluster unreachable for now";

    /// <summary>
    /// How the Orleans runtime starts the message of the <see cref="TimeoutException"/> it completes a call with when no
    /// response arrived within the response timeout (its call-back data, in Orleans.Core). A test reads it from that
    /// assembly's strings, so an Orleans version that words it otherwise fails the test rather than this rule silently.
    /// </summary>
    public const string ResponseTimeoutPrefix = "Response did not arrive on time in ";

    /// <summary>
    /// The exceptions, by exact type, the Orleans runtime raises when a silo is dead or unreachable or membership churns:
    /// <list type="bullet">
    /// <item><see cref="SiloUnavailableException"/>: the target silo was declared dead, or shuts down, with the call in flight.</item>
    /// <item><see cref="OrleansMessageRejectionException"/>: a message rejected without a cause of its own, e.g. "Forwarding
    /// failed" after an activation whose directory entry a membership change invalidated (a rejection that carries its
    /// cause raises that cause instead, told by its own type).</item>
    /// <item><see cref="ConnectionFailedException"/>, <see cref="SocketConnectionException"/>: no connection to a silo or gateway.</item>
    /// <item><see cref="GatewayTooBusyException"/>, <see cref="LimitExceededException"/>: a gateway or an activation shedding load.</item>
    /// <item><see cref="ClientNotAvailableException"/>: the client a call was routed to is not connected (now).</item>
    /// <item><see cref="OrleansClusterConnectivityCheckFailedException"/>, <see cref="OrleansMissingMembershipEntryException"/>:
    /// this silo cannot reach the others, or was declared dead by them (it stops; the run is taken up elsewhere).</item>
    /// </list>
    /// Every other exception type of the Orleans assemblies is the run's own (a test decides each one by name, so a new
    /// Orleans version's new type waits for a decision). <see cref="OrleansException"/> itself is not here: the runtime
    /// raises it bare for faults of the application too, and one that wraps a passing fault is looked through to it.
    /// </summary>
    public static IReadOnlySet<Type> ClusterFaults { get; } = new HashSet<Type>
    {
        typeof(SiloUnavailableException),
        typeof(OrleansMessageRejectionException),
        typeof(ConnectionFailedException),
        typeof(SocketConnectionException),
        typeof(GatewayTooBusyException),
        typeof(LimitExceededException),
        typeof(ClientNotAvailableException),
        typeof(OrleansClusterConnectivityCheckFailedException),
        typeof(OrleansMissingMembershipEntryException),
    };

    /// <summary>
    /// Whether <paramref name="exception"/> is the timeout of an Orleans call: a plain <see cref="TimeoutException"/> whose
    /// message is the runtime's (<see cref="ResponseTimeoutPrefix"/>). The runtime creates it in its call-back and never
    /// throws it there, so neither its stack nor its source says where it came from: its message is the one mark it has. A
    /// <see cref="TimeoutException"/> of anything else (the run's own code, an HTTP client, a subtype) is the run's own.
    /// </summary>
    public static bool IsResponseTimeout(Exception exception) =>
        exception.GetType() == typeof(TimeoutException) && exception.Message.StartsWith(ResponseTimeoutPrefix, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="exception"/> itself (not what it wraps) says a silo of the cluster could not be reached.</summary>
    public static bool IsClusterFault(Exception exception) => ClusterFaults.Contains(exception.GetType()) || IsResponseTimeout(exception);

    /// <summary>
    /// The attempt's outcome when <paramref name="exception"/> is the cluster's passing fault (<see cref="RunEndRule.DatabaseUnavailableOutcome"/>,
    /// <see cref="RunEndRule.RunnerInterruptedOutcome"/> or <see cref="ClusterUnreachableOutcome"/>); null when it is the run's own.
    /// </summary>
    public static string? Of(Exception exception)
    {
        if (DatabaseFaults.IsUnavailable(exception))
        {
            return RunEndRule.DatabaseUnavailableOutcome;
        }

        string? found = null;
        for (var (depth, e) = (0, exception); depth < 8 && e is not null; depth++, e = e.InnerException)
        {
            switch (e)
            {
                case RunnerInterruptedException:
                    return RunEndRule.RunnerInterruptedOutcome;
                case InconsistentStateException:
                    // Another activation wrote this grain's state: no wait for the cluster changes that.
                    return null;
                case AggregateException aggregate:
                    return found ?? aggregate.InnerExceptions.Select(Of).FirstOrDefault(o => o is not null);
                case { } fault when IsClusterFault(fault):
                    // What it wraps may say more (the runner's daemon, another activation's write): looked through first.
                    found ??= ClusterUnreachableOutcome;
                    break;
            }
        }

        return found;
    }

    /// <summary>
    /// Whether a run interrupted by <paramref name="outcome"/> is still waited for (taken up again), the cluster having been
    /// unreachable for <paramref name="unreachableFor"/> since the first fault of an unbroken run of them: an unreachable
    /// cluster within <paramref name="grace"/> (it is over exactly at its end), and the database or the runner's daemon
    /// always (the runner bounds its own wait: <see cref="DockerDaemonErrors.Unanswered"/>). Past the grace, the backtest or
    /// the batch gives up: it fails with the fault.
    /// </summary>
    public static bool StillWaited(string outcome, TimeSpan unreachableFor, TimeSpan grace) =>
        outcome != ClusterUnreachableOutcome || unreachableFor < grace;

    /// <summary>How a log says what interrupted a run, from its outcome (null: its silo was lost).</summary>
    public static string Describe(string? outcome) => outcome switch
    {
        RunEndRule.DatabaseUnavailableOutcome => "the database was away",
        RunEndRule.RunnerInterruptedOutcome => "its runner's daemon did not answer",
        ClusterUnreachableOutcome => "a silo of the cluster could not be reached",
        null => "its silo was lost",
        _ => outcome,
    };
}
