using Backtesting.Storage;

namespace Backtesting.Grains.WalkForward;

/// <summary>The ids of a walk-forward job's children: name-based, so a job that starts a window again after a restart finds the same child.</summary>
public static class WalkForwardIds
{
    public static Guid Optimization(Guid walkForwardId, int window) => DeterministicGuid.Create(walkForwardId, $"walkforward:{window}:in-sample");

    public static Guid OutOfSample(Guid walkForwardId, int window) => DeterministicGuid.Create(walkForwardId, $"walkforward:{window}:out-of-sample");
}
