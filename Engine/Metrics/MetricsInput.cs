using Backtesting.Engine.Results;

namespace Backtesting.Engine.Metrics;

/// <summary>Everything <see cref="MetricsCalculator.Compute"/> needs, gathered by the engine after a run.</summary>
public sealed record MetricsInput
{
    /// <summary>Account equity at the start, before the first date (finite, &gt; 0). The first daily return is measured against it.</summary>
    public required double InitialEquity { get; init; }

    /// <summary>End-of-day equity, one point per trading date, dates strictly increasing. May be empty.</summary>
    public required IReadOnlyList<DailyEquity> DailyEquity { get; init; }

    /// <summary>
    /// Optional benchmark end-of-day value (e.g. buy-and-hold of the benchmark instrument), dates strictly
    /// increasing and normally the same as <see cref="DailyEquity"/>.
    /// </summary>
    /// <remarks>
    /// Returns are aligned by date: only dates present in both series are used, and each pair of returns
    /// (strategy, benchmark) is measured from the previous common date, so both cover the same interval even
    /// if one series has a gap. The first common date gets a pair (against <see cref="InitialEquity"/> and
    /// <see cref="BenchmarkInitialEquity"/>) only when the benchmark's initial value is given and that date is
    /// the first date of both series. A non-positive base value makes every benchmark-relative metric null.
    /// </remarks>
    public IReadOnlyList<DailyEquity>? BenchmarkDailyEquity { get; init; }

    /// <summary>
    /// Benchmark value at the same start instant as <see cref="InitialEquity"/>. When null the benchmark's
    /// first return is undefined, so the first date is left out of the benchmark-relative metrics.
    /// </summary>
    public double? BenchmarkInitialEquity { get; init; }

    /// <summary>Closed round-trip trades.</summary>
    public IReadOnlyList<Trade> Trades { get; init; } = [];

    /// <summary>Return periods (trading days) per year used to annualize: 252 for equities, 365 for crypto.</summary>
    public required int PeriodsPerYear { get; init; }

    /// <summary>Annual risk-free rate as a fraction (0.02 = 2%); converted per period as (1 + rf)^(1/P) − 1.</summary>
    public double RiskFreeRate { get; init; }

    /// <summary>Fraction of the time (bars) a position was open, computed by the engine, in [0, 1].</summary>
    public double Exposure { get; init; }

    /// <summary>Sum of |quantity × price| over all fills (buys and sells), base currency, computed by the engine.</summary>
    public double TotalTradedValue { get; init; }

    /// <summary>Total commission paid, base currency, computed by the engine.</summary>
    public double TotalCommission { get; init; }

    /// <summary>
    /// Maximum drawdown (≤ 0) tracked per bar by the engine with a <see cref="DrawdownTracker"/>; when null it is
    /// computed from <see cref="DailyEquity"/>, which misses intraday troughs.
    /// </summary>
    public double? MaxDrawdown { get; init; }

    /// <summary>Longest drawdown duration tracked per bar (see <see cref="DrawdownTracker.MaxDuration"/>); when null computed from daily equity.</summary>
    public TimeSpan? MaxDrawdownDuration { get; init; }
}
