namespace Backtesting.Grains.Interfaces;

/// <summary>
/// One walk-forward job (keyed by its id): for every window of its plan an in-sample optimization job
/// (<see cref="IOptimizationGrain"/>), then the chosen parameters as an
/// ordinary backtest over the window's out-of-sample part (<see cref="IBacktestGrain"/>), then the stitched out-of-sample result. Its states and words are an
/// optimization's (<see cref="OptimizationLifecycle"/>); every move is persisted before it is acknowledged.
/// </summary>
/// <remarks>Every call on a job that does not exist throws <see cref="KeyNotFoundException"/>.</remarks>
[Alias("walkforward.grain")]
public interface IWalkForwardGrain : IGrainWithGuidKey
{
    /// <summary>Validates, stores and starts the job: every window's in-sample optimization at once.</summary>
    /// <exception cref="OptimizationValidationException">With every rule the job breaks; nothing is stored.</exception>
    /// <exception cref="IllegalOptimizationMoveException">This id was submitted before.</exception>
    [Alias("submit")]
    Task<WalkForwardStatus> Submit(WalkForwardSubmission submission);

    [Alias("status")]
    Task<WalkForwardStatus> GetStatus();

    /// <summary>Stops the job and cancels its children (optimizations and out-of-sample backtests) that still run.</summary>
    /// <exception cref="IllegalOptimizationMoveException">The job is terminal already.</exception>
    [Alias("cancel")]
    Task<WalkForwardStatus> Cancel();
}
