using System.Globalization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Robustness;

/// <summary>The unit of a <see cref="CalendarPeriod"/>.</summary>
public enum CalendarUnit
{
    Days,
    Weeks,
    Months,
    Years,
}

/// <summary>
/// A calendar length written as a whole number and a unit letter: <c>30d</c>, <c>2w</c>, <c>3m</c>, <c>1y</c>. Months
/// and years follow the calendar (<see cref="DateOnly.AddMonths"/>: the 31st plus one month is the last day of the
/// next month), so a date k periods after an origin is always computed from the origin in one step, never by adding
/// one period k times, and window boundaries do not drift.
/// </summary>
public readonly record struct CalendarPeriod(int Count, CalendarUnit Unit)
{
    /// <summary>The largest count a period may have.</summary>
    public const int MaxCount = 9999;

    /// <summary>What a period must look like, for error messages.</summary>
    public const string Rule = "a length like 1y, 6m, 2w or 30d: a whole number from 1 to 9999, then d, w, m or y";

    public static bool TryParse(string? text, out CalendarPeriod period)
    {
        period = default;
        if (text is not { Length: >= 2 and <= 5 })
        {
            return false;
        }

        CalendarUnit? unit = text[^1] switch
        {
            'd' => CalendarUnit.Days,
            'w' => CalendarUnit.Weeks,
            'm' => CalendarUnit.Months,
            'y' => CalendarUnit.Years,
            _ => null,
        };
        var digits = text.AsSpan(0, text.Length - 1);
        if (unit is null || digits[0] == '0' || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count is < 1 or > MaxCount)
        {
            return false;
        }

        period = new CalendarPeriod(count, unit.Value);
        return true;
    }

    /// <summary><paramref name="origin"/> plus <paramref name="times"/> of this period (negative: minus), in one step.</summary>
    public DateOnly After(DateOnly origin, int times = 1)
    {
        var n = checked(Count * times);
        return Unit switch
        {
            CalendarUnit.Days => origin.AddDays(n),
            CalendarUnit.Weeks => origin.AddDays(checked(7 * n)),
            CalendarUnit.Months => origin.AddMonths(n),
            _ => origin.AddYears(n),
        };
    }

    public override string ToString() => Count.ToString(CultureInfo.InvariantCulture) + Unit switch
    {
        CalendarUnit.Days => "d",
        CalendarUnit.Weeks => "w",
        CalendarUnit.Months => "m",
        _ => "y",
    };
}

/// <summary>
/// How a walk-forward analysis cuts its span: the in-sample and out-of-sample lengths, the step between windows
/// (by default the out-of-sample length, so the out-of-sample windows tile the span), and whether the in-sample part
/// is anchored at the span's start (expanding) or rolls with the step.
/// </summary>
public sealed record WalkForwardSettings(string InSample, string OutOfSample, string? Step = null, bool Anchored = false);

/// <summary>One window: an in-sample part to optimize on, and the out-of-sample part right after it. Dates inclusive.</summary>
/// <param name="Truncated">The out-of-sample part ends at the span's end before its full length.</param>
public sealed record WalkForwardWindow(
    int Index,
    DateOnly InSampleStart,
    DateOnly InSampleEnd,
    DateOnly OutOfSampleStart,
    DateOnly OutOfSampleEnd,
    bool Truncated);

/// <summary>
/// Cuts a span into walk-forward windows. With S the span's first date, in-sample length L, step P, out-of-sample
/// length O and B = S + L: window i's out-of-sample part starts at B + i·P and ends the day before B + i·P + O, or at
/// the span's end (both counted from B in one calendar step); its in-sample part ends the day before that start and
/// begins at S when anchored, else at S + i·P. Windows go on while the out-of-sample start lies before the span's last day
/// (an out-of-sample part is a backtest, whose end must come after its start, so a last part of one day is no window). The
/// step must be in the out-of-sample length's unit and at least as long, so out-of-sample parts never overlap and each
/// day of the stitched out-of-sample curve belongs to exactly one window (a longer step leaves gaps between them).
/// </summary>
public static class WalkForwardPlanner
{
    /// <summary>The default cap on windows; a setting of the host.</summary>
    public const int DefaultMaxWindows = 100;

    /// <summary>Every rule the settings break (fields under <paramref name="field"/>), or the windows.</summary>
    public static (IReadOnlyList<WalkForwardWindow> Windows, IReadOnlyList<ValidationError> Errors) Plan(
        DateOnly start, DateOnly end, WalkForwardSettings settings, string field = "validation", int maxWindows = DefaultMaxWindows)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var errors = new List<ValidationError>();
        var inSample = Period(settings.InSample, $"{field}.inSample", errors);
        var outOfSample = Period(settings.OutOfSample, $"{field}.outOfSample", errors);
        var step = settings.Step is null ? outOfSample : Period(settings.Step, $"{field}.step", errors);
        if (step is { } s && outOfSample is { } o && settings.Step is not null)
        {
            if (s.Unit != o.Unit)
            {
                errors.Add(new ValidationError($"{field}.step", "stepUnit",
                    $"the step must be in the out-of-sample length's unit ({o}), so their lengths compare exactly"));
            }
            else if (s.Count < o.Count)
            {
                errors.Add(new ValidationError($"{field}.step", "stepTooShort",
                    $"the step {s} is shorter than the out-of-sample length {o}: out-of-sample windows would overlap"));
            }
        }

        if (outOfSample is { Unit: CalendarUnit.Days, Count: < 2 } tooShort)
        {
            errors.Add(new ValidationError($"{field}.outOfSample", "tooShort",
                $"an out-of-sample part of {tooShort} cannot run: each is a backtest, whose end must come after its start (at least 2d)"));
        }

        if (end < start)
        {
            errors.Add(new ValidationError(field, "span", $"the span ends ({end:yyyy-MM-dd}) before it starts ({start:yyyy-MM-dd})"));
        }

        if (errors.Count > 0 || inSample is not { } l || outOfSample is not { } oos || step is not { } p)
        {
            return ([], errors);
        }

        var windows = new List<WalkForwardWindow>();
        try
        {
            for (var i = 0; ; i++)
            {
                var oosStart = OutOfSampleStart(start, l, p, i);
                if (oosStart >= end)
                {
                    break;
                }

                if (windows.Count == maxWindows)
                {
                    return ([], [new ValidationError(field, "tooManyWindows",
                        $"the span holds more than {maxWindows} windows; lengthen the step or shorten the span")]);
                }

                var fullEnd = OutOfSampleEnd(start, l, p, oos, i);
                var isStart = settings.Anchored ? start : p.After(start, i);
                windows.Add(new WalkForwardWindow(i, isStart, oosStart.AddDays(-1), oosStart, fullEnd > end ? end : fullEnd, fullEnd > end));
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            // Past the last representable date: the span ends long before.
        }

        if (windows.Count == 0)
        {
            errors.Add(new ValidationError(field, "noWindow",
                $"the span {start:yyyy-MM-dd}..{end:yyyy-MM-dd} does not hold the in-sample length {l} and two days after it"));
        }

        return errors.Count > 0 ? ([], errors) : (windows, errors);
    }

    /// <summary>B + i·P, with B = S + L: out-of-sample starts and ends are all counted from B in P's unit.</summary>
    private static DateOnly OutOfSampleStart(DateOnly start, CalendarPeriod l, CalendarPeriod p, int i) =>
        new CalendarPeriod(1, p.Unit).After(l.After(start), checked(i * p.Count));

    /// <summary>The day before B + i·P + O (O is in P's unit): with P = O, the day before window i + 1 starts.</summary>
    private static DateOnly OutOfSampleEnd(DateOnly start, CalendarPeriod l, CalendarPeriod p, CalendarPeriod o, int i) =>
        new CalendarPeriod(1, p.Unit).After(l.After(start), checked(i * p.Count + o.Count)).AddDays(-1);

    private static CalendarPeriod? Period(string? text, string field, List<ValidationError> errors)
    {
        if (CalendarPeriod.TryParse(text, out var period))
        {
            return period;
        }

        errors.Add(new ValidationError(field, text is null ? "required" : "period",
            text is null ? $"required: {CalendarPeriod.Rule}" : $"'{text}' is not {CalendarPeriod.Rule}"));
        return null;
    }
}
