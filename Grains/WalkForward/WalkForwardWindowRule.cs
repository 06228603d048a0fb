using System.Globalization;
using System.Text.Json;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.WalkForward;

/// <summary>What a window of a walk-forward job does next, given what its child reports.</summary>
public enum WindowStep
{
    /// <summary>The child still runs (or waits in the queue).</summary>
    Wait,
    /// <summary>The in-sample optimization completed with a feasible trial: run its parameters out of sample.</summary>
    RunOutOfSample,
    /// <summary>The in-sample optimization completed without a feasible trial: the window is recorded as such; nothing runs out of sample.</summary>
    NoFeasibleTrial,
    /// <summary>The out-of-sample backtest completed: the window is done.</summary>
    Done,
    /// <summary>The child was cancelled or failed outside the job: the job fails, naming the window.</summary>
    Fail,
}

/// <summary>
/// The rules of a walk-forward window, apart from the grain: which state of a child moves the window how, and the
/// in-sample annualized return the efficiency uses (the chosen trial's <c>annualizedReturn</c> metric).
/// </summary>
public static class WalkForwardWindowRule
{
    public static (WindowStep Step, string? Reason) AfterOptimization(int window, OptimizationStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return status.State switch
        {
            OptimizationState.Completed when status.Best is not null => (WindowStep.RunOutOfSample, null),
            OptimizationState.Completed => (WindowStep.NoFeasibleTrial, null),
            OptimizationState.Cancelled or OptimizationState.Failed => (WindowStep.Fail,
                $"window {window.ToString(CultureInfo.InvariantCulture)}: its in-sample optimization {status.Id} is {status.StateWord}"
                + (status.ErrorMessage is { } error ? $" ({error})" : "")),
            _ => (WindowStep.Wait, null),
        };
    }

    public static (WindowStep Step, string? Reason) AfterBacktest(int window, BacktestStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return status.State switch
        {
            BacktestState.Completed => (WindowStep.Done, null),
            BacktestState.Cancelled or BacktestState.Failed or BacktestState.TimedOut => (WindowStep.Fail,
                $"window {window.ToString(CultureInfo.InvariantCulture)}: its out-of-sample backtest {status.Id} is {Lifecycle.Word(status.State)}"
                + (status.Error is { } error ? $" ({error.ErrorMessage})" : "")),
            _ => (WindowStep.Wait, null),
        };
    }

    /// <summary>The chosen trial's in-sample annualized return from its metrics object; null when absent or not a finite number.</summary>
    public static double? InSampleAnnualizedReturn(string? metricsJson)
    {
        if (metricsJson is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(metricsJson);
        return document.RootElement.ValueKind == JsonValueKind.Object
               && document.RootElement.TryGetProperty("annualizedReturn", out var value)
               && value.ValueKind == JsonValueKind.Number && value.GetDouble() is var r && double.IsFinite(r)
            ? r
            : null;
    }
}
