using System.Globalization;

namespace Backtesting.Engine.Configuration;

/// <summary>
/// Limits that depend on who runs the backtest rather than on what is valid. The cluster's comes from its deployment
/// setting <c>Backtesting:MaxDurationYears</c> (<see cref="FromSetting"/>); a worker run on one's own machine has none.
/// </summary>
public sealed record ValidationPolicy
{
    /// <summary>The cluster's limit when its setting is not given (the seed's 5 years).</summary>
    public const int DefaultMaxDurationYears = 5;

    /// <summary>
    /// The longest limit a setting may give. Dates lie between 1900 and 2100 (rule <c>range</c>), so 200 years already
    /// admits every range; a larger number would only hide a typing error.
    /// </summary>
    public const int MaxDurationYearsCeiling = 200;

    /// <summary>The setting's word for no limit at all (compared ignoring case).</summary>
    public const string NoLimit = "none";

    /// <summary>The setting's name in the silo's configuration (section <c>Backtesting</c>).</summary>
    public const string SettingName = "Backtesting:MaxDurationYears";

    /// <param name="maxDurationYears">Longest date range accepted in calendar years (end on or before start plus this many
    /// years), 1 to <see cref="MaxDurationYearsCeiling"/>; null for no limit.</param>
    public ValidationPolicy(int? maxDurationYears)
    {
        if (maxDurationYears is < 1 or > MaxDurationYearsCeiling)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDurationYears), maxDurationYears,
                $"a maximum duration is 1 to {MaxDurationYearsCeiling} years, or none");
        }

        MaxDurationYears = maxDurationYears;
    }

    /// <summary>Longest date range accepted in calendar years; null for no limit.</summary>
    public int? MaxDurationYears { get; }

    /// <summary>The cluster's admission rules with the default limit (<see cref="DefaultMaxDurationYears"/>).</summary>
    public static ValidationPolicy Service { get; } = new(DefaultMaxDurationYears);

    /// <summary>
    /// No duration cap, every other rule the same: a worker run on one's own machine, and the plan of a job the cluster
    /// has already accepted made again (its dates were judged when it was admitted; a lowered limit applies to new jobs).
    /// </summary>
    public static ValidationPolicy Local { get; } = new((int?)null);

    /// <summary>
    /// The policy a deployment setting names: a whole number of years from 1 to <see cref="MaxDurationYearsCeiling"/>
    /// (digits only), or <see cref="NoLimit"/>; null (the setting left out) is the default. Anything else is an error that
    /// names the setting, what it accepts and what it got.
    /// </summary>
    public static (ValidationPolicy? Policy, string? Error) FromSetting(string? value)
    {
        if (value is null)
        {
            return (Service, null);
        }

        if (string.Equals(value, NoLimit, StringComparison.OrdinalIgnoreCase))
        {
            return (Local, null);
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var years) && years is >= 1 and <= MaxDurationYearsCeiling
            ? (years == DefaultMaxDurationYears ? Service : new ValidationPolicy(years), null)
            : (null, $"{SettingName} must be a whole number of years from 1 to {MaxDurationYearsCeiling}, or '{NoLimit}' for no limit; " +
                     $"'{value}' is not");
    }

    /// <summary>The limit as the setting writes it: the number of years, or <see cref="NoLimit"/>.</summary>
    public string Setting => MaxDurationYears?.ToString(CultureInfo.InvariantCulture) ?? NoLimit;
}
