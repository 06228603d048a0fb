namespace Backtesting.Grains.Supervision;

/// <summary>What each of the two steps of an end came to: null when it held, else what it threw.</summary>
public sealed record EndOutcome(Exception? AnnounceFailure, Exception? ReleaseFailure);

/// <summary>
/// The two steps of a backtest's end once its terminal state is stored: announcing the end on its stream, and giving its
/// slot back (with its recovery reminder). They go side by side: each is started before either is awaited (the steps are
/// asynchronous calls: a step runs only up to its first wait before the other starts), neither waits for the other, and a failure of one cancels nothing of the other. One after the other, a publish towards a silo that
/// had just died held the slot of a run that had ended until the call's response timeout, and the next run in line waited
/// as long; a release lost the same way would hold back the announcement. Both failures are returned to the caller, which
/// logs a lost announcement (the state is stored: a subscriber's snapshot shows it) and has a lost release given back by
/// the recovery (<see cref="RecoveryRule"/>).
/// </summary>
public static class EndSequence
{
    /// <summary>Runs both steps; returns once both have ended, with what each threw.</summary>
    public static async Task<EndOutcome> Run(Func<Task> announce, Func<Task> release)
    {
        var announcing = Attempt(announce);
        var releasing = Attempt(release);
        return new EndOutcome(await announcing, await releasing);
    }

    private static async Task<Exception?> Attempt(Func<Task> step)
    {
        try
        {
            await step();
            return null;
        }
#pragma warning disable CA1031 // Every failure is the caller's to judge: see the summary.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return e;
        }
    }
}
