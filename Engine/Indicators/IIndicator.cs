namespace Backtesting.Engine.Indicators;

/// <summary>
/// What every streaming indicator in this namespace shares.
/// </summary>
/// <remarks>
/// Conventions common to all indicators:
/// <list type="bullet">
/// <item>Updates are O(1) (amortized where noted) and never allocate: buffers are sized in the constructor.</item>
/// <item>Outputs are <see cref="double.NaN"/> until <see cref="IsReady"/>, so a strategy that forgets the
/// check compares against NaN (always false) instead of acting on a half-warmed number.</item>
/// <item>Inputs are expected to be finite; they are not validated per update (hot path).</item>
/// <item>Instances are not thread-safe; use one per instrument and strategy.</item>
/// </list>
/// </remarks>
public interface IIndicator
{
    /// <summary>The look-back length the indicator was built with.</summary>
    int Period { get; }

    /// <summary>Number of updates needed before <see cref="IsReady"/> becomes true.</summary>
    int WarmUpPeriod { get; }

    /// <summary>True once enough updates were seen for the outputs to be defined.</summary>
    bool IsReady { get; }

    /// <summary>Forgets every update, as if newly constructed (no allocation).</summary>
    void Reset();
}
