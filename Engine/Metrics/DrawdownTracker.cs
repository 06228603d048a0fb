namespace Backtesting.Engine.Metrics;

/// <summary>
/// Running drawdown of an equity curve, updated point by point. The engine feeds it every bar;
/// the metrics calculator feeds it end-of-day equity when no per-bar figures are given, so
/// both use one definition.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Peak = highest equity seen so far, starting with the initial equity at the start time.</item>
/// <item>Drawdown = equity / peak − 1, a fraction ≤ 0 (−0.23 is a 23% decline from the peak).</item>
/// <item>Duration of a drawdown = time from the moment the peak was set until equity first gets back
/// to it (≥ peak). A drawdown still open counts until the latest update. The peak moves to any update at or
/// above it, so a drawdown ends the moment the old peak is regained.</item>
/// </list>
/// O(1) per update, no allocation. Not thread-safe.
/// </remarks>
public sealed class DrawdownTracker
{
    /// <param name="initialEquity">Equity at the start; the first peak (finite, &gt; 0).</param>
    /// <param name="startTime">When <paramref name="initialEquity"/> held; drawdown durations count from here.</param>
    public DrawdownTracker(double initialEquity, DateTime startTime)
    {
        if (!double.IsFinite(initialEquity) || initialEquity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(initialEquity), initialEquity, "Must be finite and positive.");
        }

        Peak = initialEquity;
        PeakTime = startTime;
        LastTime = startTime;
    }

    /// <summary>Highest equity so far (including the initial equity).</summary>
    public double Peak { get; private set; }

    /// <summary>When <see cref="Peak"/> was last reached.</summary>
    public DateTime PeakTime { get; private set; }

    /// <summary>Time of the latest update (the start time before any).</summary>
    public DateTime LastTime { get; private set; }

    /// <summary>equity / peak − 1 at the latest update (≤ 0).</summary>
    public double CurrentDrawdown { get; private set; }

    /// <summary>Most negative <see cref="CurrentDrawdown"/> seen (≤ 0; 0 if equity never fell below a peak).</summary>
    public double MaxDrawdown { get; private set; }

    /// <summary>Time since <see cref="PeakTime"/> while below the peak; zero at a peak.</summary>
    public TimeSpan CurrentDuration { get; private set; }

    /// <summary>Longest time from a peak until it was regained, or until the latest update for an open drawdown.</summary>
    public TimeSpan MaxDuration { get; private set; }

    /// <summary>Adds one equity observation and returns the current drawdown (≤ 0).</summary>
    /// <param name="time">Must not be earlier than the previous update (or the start time).</param>
    /// <param name="equity">Must be finite.</param>
    public double Update(DateTime time, double equity)
    {
        if (time < LastTime)
        {
            throw new ArgumentException($"Time {time:O} is earlier than the previous update {LastTime:O}.", nameof(time));
        }

        if (!double.IsFinite(equity))
        {
            throw new ArgumentOutOfRangeException(nameof(equity), equity, "Must be finite.");
        }

        LastTime = time;
        if (equity >= Peak)
        {
            if (CurrentDrawdown < 0)
            {
                // Recovered: the drawdown lasted from the peak until now.
                var recovered = time - PeakTime;
                if (recovered > MaxDuration)
                {
                    MaxDuration = recovered;
                }
            }

            Peak = equity;
            PeakTime = time;
            CurrentDrawdown = 0;
            CurrentDuration = TimeSpan.Zero;
            return 0;
        }

        CurrentDrawdown = equity / Peak - 1;
        if (CurrentDrawdown < MaxDrawdown)
        {
            MaxDrawdown = CurrentDrawdown;
        }

        CurrentDuration = time - PeakTime;
        if (CurrentDuration > MaxDuration)
        {
            MaxDuration = CurrentDuration;
        }

        return CurrentDrawdown;
    }
}
