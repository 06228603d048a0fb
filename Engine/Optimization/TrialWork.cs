using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;

namespace Backtesting.Engine.Optimization;

/// <summary>
/// How much data one trial of a job reads, estimated from its plan before anything runs: every instrument's trading
/// days in the job's dates (the calendar's) times the points a session holds at the job's resolution. What a host sizes
/// its batches by; an estimate, never a promise (a quality filter, a gap or a thin tick file changes the real count).
/// </summary>
public static class TrialWork
{
    /// <summary>Minutes of a regular US equity or index session (09:30-16:00).</summary>
    public const int RegularSessionMinutes = 390;

    /// <summary>Minutes of an equity or index session with extended hours (04:00-20:00).</summary>
    public const int ExtendedSessionMinutes = 960;

    /// <summary>Minutes of a day of a market that trades around the clock (forex, crypto).</summary>
    public const int AroundTheClockMinutes = 1440;

    /// <summary>
    /// Ticks assumed per session minute: tick counts are not known before the files are read. Of the order of SPY's
    /// trade ticks in the bundled data (250,000-450,000 a regular session in October 2013, about 640-1,160 a minute).
    /// </summary>
    public const int TicksPerMinute = 1000;

    /// <summary>The points one trial of <paramref name="plan"/> reads, summed over its instruments (at least 1).</summary>
    public static long PointsPerTrial(OptimizationPlan plan, IMarketCalendar calendar) => PointsPerRun(plan.BaseSpec, calendar);

    /// <summary>The points one run of <paramref name="spec"/> reads, summed over its instruments (at least 1).</summary>
    public static long PointsPerRun(BacktestSpec spec, IMarketCalendar calendar)
    {
        long points = 0;
        foreach (var instrument in spec.Instruments)
        {
            var days = calendar.TradingDays(instrument.Market, instrument.AssetClass, spec.Start, spec.End).LongCount();
            points += days * PointsPerSession(spec.Resolution, instrument.AssetClass, spec.Config.DataConfiguration.ExtendedHours);
        }

        return Math.Max(1, points);
    }

    /// <summary>The points one trading day of one instrument holds at a resolution.</summary>
    public static long PointsPerSession(Resolution resolution, AssetClass assetClass, bool extendedHours)
    {
        var minutes = assetClass is AssetClass.Forex or AssetClass.Crypto ? AroundTheClockMinutes
            : extendedHours ? ExtendedSessionMinutes
            : RegularSessionMinutes;
        return resolution switch
        {
            Resolution.Daily => 1,
            Resolution.Hour => (minutes + 59) / 60,
            Resolution.Minute => minutes,
            _ => (long)minutes * TicksPerMinute,
        };
    }
}
