using Backtesting.Engine.Results;

namespace Backtesting.Engine.Metrics;

/// <summary>One calendar month's return: the compounded daily returns of the dates in that month.</summary>
/// <param name="Return">Null when an equity the month's returns start from is ≤ 0 (undefined).</param>
public readonly record struct MonthlyReturn(int Year, int Month, double? Return);

/// <summary>Calendar-month returns from end-of-day equity.</summary>
public static class MonthlyReturns
{
    /// <summary>
    /// For each calendar month that has at least one date, in order: Π (1 + r_t) − 1 over the month's daily
    /// returns r_t = E_t / E_{t-1} − 1 (the first against <paramref name="initialEquity"/>). The product telescopes,
    /// so it is computed exactly as E_last-of-month / E_last-of-previous-month − 1 (E_0 for the first month).
    /// </summary>
    /// <param name="daily">End-of-day equity, dates strictly increasing.</param>
    /// <param name="initialEquity">Equity before the first date (finite, &gt; 0).</param>
    public static IReadOnlyList<MonthlyReturn> From(IReadOnlyList<DailyEquity> daily, double initialEquity)
    {
        ArgumentNullException.ThrowIfNull(daily);
        if (!double.IsFinite(initialEquity) || initialEquity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(initialEquity), initialEquity, "Must be finite and positive.");
        }

        var months = new List<MonthlyReturn>();
        var monthStart = initialEquity;
        var previous = initialEquity;
        var defined = true;
        for (var i = 0; i < daily.Count; i++)
        {
            var point = daily[i];
            if (!double.IsFinite(point.Equity))
            {
                throw new ArgumentException($"daily[{i}] ({point.Date:yyyy-MM-dd}) is not finite: {point.Equity}.", nameof(daily));
            }

            if (i > 0 && point.Date <= daily[i - 1].Date)
            {
                throw new ArgumentException($"Dates must be strictly increasing: {daily[i - 1].Date:yyyy-MM-dd} then {point.Date:yyyy-MM-dd}.", nameof(daily));
            }

            // A daily return from a non-positive equity is undefined, and so is the month's product.
            defined &= previous > 0;
            previous = point.Equity;

            var lastOfMonth = i == daily.Count - 1
                || daily[i + 1].Date.Month != point.Date.Month
                || daily[i + 1].Date.Year != point.Date.Year;
            if (lastOfMonth)
            {
                months.Add(new MonthlyReturn(point.Date.Year, point.Date.Month, defined ? point.Equity / monthStart - 1 : null));
                monthStart = point.Equity;
                defined = true;
            }
        }

        return months;
    }
}
