namespace Backtesting.Grains.Interfaces;

/// <summary>
/// One optimization job (keyed by its id). It owns the lifecycle (<see cref="OptimizationLifecycle"/>), persists every
/// transition (grain state and the optimizations row) before acknowledging it, runs its trials in batches through the
/// cluster's queue, and publishes <see cref="OptimizationEvent"/>s on the stream keyed by its id
/// (<see cref="OptimizationStreamNames"/>).
/// </summary>
/// <remarks>Every call on a job that does not exist (never submitted, or deleted) throws <see cref="KeyNotFoundException"/>.</remarks>
[Alias("optimization.grain")]
public interface IOptimizationGrain : IGrainWithGuidKey
{
    /// <summary>Validates, stores and queues the job.</summary>
    /// <exception cref="OptimizationValidationException">With every rule the job breaks; nothing is stored.</exception>
    /// <exception cref="IllegalOptimizationMoveException">This id was submitted before.</exception>
    [Alias("submit")]
    Task<OptimizationStatus> Submit(OptimizationSubmission submission);

    [Alias("status")]
    Task<OptimizationStatus> GetStatus();

    /// <summary>Running batches finish their current trial and stop, freeing their slots; nothing new is queued.</summary>
    /// <exception cref="IllegalOptimizationMoveException">The job is not queued or running.</exception>
    [Alias("pause")]
    Task<OptimizationStatus> Pause();

    /// <summary>Queues the paused job's batches again; each goes on from its checkpoint.</summary>
    /// <exception cref="IllegalOptimizationMoveException">The job is not paused.</exception>
    [Alias("resume")]
    Task<OptimizationStatus> Resume();

    /// <summary>Stops a queued, running or paused job; the trials stored so far are kept.</summary>
    /// <exception cref="IllegalOptimizationMoveException">The job is terminal already.</exception>
    [Alias("cancel")]
    Task<OptimizationStatus> Cancel();

    /// <summary>Cancels when needed, waits for its batches to stop, then removes the job and its trials.</summary>
    [Alias("delete")]
    Task Delete();
}

/// <summary>Validates a job and counts its trials without storing anything (the dashboard's estimate before launch).</summary>
[Alias("optimization.planner")]
public interface IOptimizationPlannerGrain : IGrainWithIntegerKey
{
    /// <returns>The trials the job plans (<c>OptimizationPlan.PlannedTrials</c>).</returns>
    /// <exception cref="OptimizationValidationException">With every rule the job breaks.</exception>
    [Alias("plan")]
    Task<long> Plan(OptimizationSubmission submission);
}
