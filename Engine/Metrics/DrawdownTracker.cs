using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

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
    // Times are kept as ticks: the engine updates once per slice, and DateTime arithmetic and comparisons
    // cost more than the rest of the update. The public surface still speaks DateTime.
    private readonly DateTimeKind _kind;
    private long _peakTicks;
    private long _lastTicks;
    private long _maxDurationTicks;

    /// <param name="initialEquity">Equity at the start; the first peak (finite, &gt; 0).</param>
    /// <param name="startTime">When <paramref name="initialEquity"/> held; drawdown durations count from here.</param>
    public DrawdownTracker(double initialEquity, DateTime startTime)
    {
        if (!double.IsFinite(initialEquity) || initialEquity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(initialEquity), initialEquity, "Must be finite and positive.");
        }

        Peak = initialEquity;
        _kind = startTime.Kind;
        _peakTicks = startTime.Ticks;
        _lastTicks = startTime.Ticks;
    }

    /// <summary>Highest equity so far (including the initial equity).</summary>
    public double Peak { get; private set; }

    /// <summary>When <see cref="Peak"/> was last reached.</summary>
    public DateTime PeakTime => new(_peakTicks, _kind);

    /// <summary>Time of the latest update (the start time before any).</summary>
    public DateTime LastTime => new(_lastTicks, _kind);

    /// <summary>equity / peak − 1 at the latest update (≤ 0).</summary>
    public double CurrentDrawdown { get; private set; }

    /// <summary>Most negative <see cref="CurrentDrawdown"/> seen (≤ 0; 0 if equity never fell below a peak).</summary>
    public double MaxDrawdown { get; private set; }

    /// <summary>Time since <see cref="PeakTime"/> while below the peak; zero at a peak.</summary>
    public TimeSpan CurrentDuration => new(_lastTicks - _peakTicks);

    /// <summary>Longest time from a peak until it was regained, or until the latest update for an open drawdown.</summary>
    public TimeSpan MaxDuration => new(_maxDurationTicks);

    /// <summary>Adds one equity observation and returns the current drawdown (≤ 0).</summary>
    /// <param name="time">Must not be earlier than the previous update (or the start time).</param>
    /// <param name="equity">Must be finite.</param>
    public double Update(DateTime time, double equity) => Update(time.Ticks, equity);

    /// <summary>As <see cref="Update(DateTime, double)"/>, with the time as <see cref="DateTime.Ticks"/>.</summary>
    /// <remarks>Inlined into the engine's per-slice step; the checks' messages are built out of line.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Update(long ticks, double equity)
    {
        if (ticks < _lastTicks || !double.IsFinite(equity))
        {
            ThrowInvalidUpdate(ticks, equity);
        }

        _lastTicks = ticks;
        if (equity >= Peak)
        {
            if (CurrentDrawdown < 0)
            {
                // Recovered: the drawdown lasted from the peak until now.
                var recovered = ticks - _peakTicks;
                if (recovered > _maxDurationTicks)
                {
                    _maxDurationTicks = recovered;
                }
            }

            Peak = equity;
            _peakTicks = ticks;
            CurrentDrawdown = 0;
            return 0;
        }

        var drawdown = (equity / Peak) - 1;
        CurrentDrawdown = drawdown;
        if (drawdown < MaxDrawdown)
        {
            MaxDrawdown = drawdown;
        }

        var duration = ticks - _peakTicks;
        if (duration > _maxDurationTicks)
        {
            _maxDurationTicks = duration;
        }

        return drawdown;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowInvalidUpdate(long ticks, double equity)
    {
        if (ticks < _lastTicks)
        {
            throw new ArgumentException($"Time {new DateTime(ticks, _kind):O} is earlier than the previous update {LastTime:O}.", nameof(ticks));
        }

        throw new ArgumentOutOfRangeException(nameof(equity), equity, "Must be finite.");
    }
}
