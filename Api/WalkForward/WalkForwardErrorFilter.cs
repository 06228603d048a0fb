using Backtesting.Api.Optimizations;

namespace Backtesting.Api.WalkForward;

/// <summary>The answers of the walk-forward routes (<see cref="JobErrorFilter"/>).</summary>
public sealed class WalkForwardErrorFilter() : JobErrorFilter("a walk-forward", "walkForwardId", id => WalkForwardHandlers.NotFound(id));
