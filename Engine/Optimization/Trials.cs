using System.Text.Json;
using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Optimization;

/// <summary>A proposed trial: its number in the job (from 0) and its parameter set, every dimension's value by name.</summary>
public sealed record TrialPoint(int Trial, IReadOnlyDictionary<string, JsonElement> Parameters);

/// <summary>
/// A finished trial. Infeasible when the strategy's own cross-parameter rule refused its parameters (then it did not run
/// and has no metrics) or when a constraint does not hold; <see cref="InfeasibleReason"/> says which.
/// </summary>
public sealed record TrialOutcome
{
    public required int Trial { get; init; }
    public required IReadOnlyDictionary<string, JsonElement> Parameters { get; init; }
    /// <summary>Null when the trial did not run (the strategy's rule refused its parameters).</summary>
    public PerformanceMetrics? Metrics { get; init; }
    public int TradeCount { get; init; }
    public required bool Feasible { get; init; }
    public string? InfeasibleReason { get; init; }
    /// <summary>The content hash of the trial's backtest: equal to that of the same config run alone.</summary>
    public string? ContentHash { get; init; }
    /// <summary>The objective's value; null when the trial did not run or the metric is undefined for it.</summary>
    public double? ObjectiveValue { get; init; }
    /// <summary>The run's daily returns in date order (empty when it did not run).</summary>
    public IReadOnlyList<double> DailyReturns { get; init; } = [];

    /// <summary>Whether the trial can be the best: feasible with a defined objective.</summary>
    public bool Ranked => Feasible && ObjectiveValue is not null;
}

/// <summary>The objective and constraints of a job, applied to a trial's metrics.</summary>
public sealed record TrialRules(Objective Objective, IReadOnlyList<Constraint> Constraints)
{
    /// <summary>Feasibility and objective of a run: feasible iff every constraint holds (the strategy rule already did).</summary>
    public (bool Feasible, string? Reason, double? Objective) Evaluate(PerformanceMetrics metrics)
    {
        List<string>? broken = null;
        foreach (var constraint in Constraints)
        {
            if (constraint.Violation(metrics) is { } violation)
            {
                (broken ??= []).Add(violation);
            }
        }

        return (broken is null, broken is null ? null : "constraint: " + string.Join("; ", broken), Objective.ValueOf(metrics));
    }

    /// <summary>
    /// The best trial: the best objective among ranked (feasible, defined objective) trials; between equal values the
    /// lowest trial number, so the best never depends on the order trials finished in. Null when none is ranked.
    /// </summary>
    public TrialOutcome? Best(IEnumerable<TrialOutcome> trials)
    {
        TrialOutcome? best = null;
        foreach (var trial in trials)
        {
            if (!trial.Ranked)
            {
                continue;
            }

            if (best is null)
            {
                best = trial;
                continue;
            }

            var score = Objective.Score(trial.ObjectiveValue!.Value);
            var bestScore = Objective.Score(best.ObjectiveValue!.Value);
            if (score > bestScore || (score == bestScore && trial.Trial < best.Trial))
            {
                best = trial;
            }
        }

        return best;
    }
}
