using Backtesting.Api.Backtests;

namespace Backtesting.Api.Optimizations;

/// <summary>The optimization routes' own error answers (the shared ones are <see cref="Problems"/>'s).</summary>
public static class OptimizationProblems
{
    public static NotFoundProblem NotFound(Guid id) =>
        new(Results.Problem(statusCode: 404, title: "Not found", detail: $"optimization {id} not found"));

    public static NotFoundProblem TrialNotFound(Guid id, int trial) =>
        new(Results.Problem(statusCode: 404, title: "Not found", detail: $"optimization {id} has no trial {trial}"));

    /// <summary>409: the trial is infeasible (it never ran, or broke a constraint), so it is not opened as a backtest.</summary>
    public static ConflictProblem Infeasible(Guid id, int trial, string? reason) =>
        new(Results.Problem(statusCode: 409, title: "Conflict", detail: $"trial {trial} of optimization {id} is infeasible: {reason}",
            extensions: new Dictionary<string, object?> { ["optimizationId"] = id, ["trial"] = trial, ["infeasibleReason"] = reason }));

    /// <summary>409: the stored job no longer validates (its data or strategy changed), so no trial config can be made from it.</summary>
    public static ConflictProblem Unplannable(Guid id) =>
        new(Results.Problem(statusCode: 409, title: "Conflict", detail: $"optimization {id} no longer validates against the current data and strategies"));
}
