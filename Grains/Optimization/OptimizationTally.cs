using System.Text.Json;
using Backtesting.Engine.Optimization;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.Optimization;

/// <summary>
/// A job's running count of stored trials, feasible ones and the best so far, with the rate and the time left. The best
/// is <see cref="TrialRules.Best"/>'s (the best objective among feasible trials, the lowest trial number between equals),
/// so it never depends on the order batches report their trials in.
/// </summary>
public static class OptimizationTally
{
    /// <summary>The best of <paramref name="best"/> and the stored trials by the job's rules.</summary>
    public static OptimizationBest? Best(TrialRules rules, OptimizationBest? best, IEnumerable<StoredTrial> trials)
    {
        foreach (var trial in trials)
        {
            if (!trial.Feasible || trial.Objective is not { } value)
            {
                continue;
            }

            if (best is null || rules.Best([Outcome(best.Trial, best.Objective), Outcome(trial.Trial, value)])!.Trial == trial.Trial)
            {
                best = new OptimizationBest(trial.Trial, trial.ParametersJson, trial.MetricsJson, value);
            }
        }

        return best;
    }

    /// <summary>
    /// The progress: trials per second of running time (null time: none yet), and the time left at that rate for the
    /// trials not finished (null before the first trial, and once the job ended).
    /// </summary>
    public static OptimizationProgress Progress(int completed, int planned, int feasible, TimeSpan runningTime, bool terminal)
    {
        var rate = runningTime > TimeSpan.Zero && completed > 0 ? completed / runningTime.TotalSeconds : 0;
        double? remaining = terminal || rate <= 0 ? null : Math.Round(Math.Max(0, planned - completed) / rate, 1);
        return new OptimizationProgress(completed, planned, feasible, Math.Round(rate, 2), remaining);
    }

    private static TrialOutcome Outcome(int trial, double objective) => new()
    {
        Trial = trial,
        Parameters = new Dictionary<string, JsonElement>(),
        Feasible = true,
        ObjectiveValue = objective,
    };
}
