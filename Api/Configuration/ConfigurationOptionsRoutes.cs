using Backtesting.Engine.Configuration;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Configuration;

/// <summary>
/// The words each enumerated setting of a config accepts, the value of every setting a config leaves out, and the
/// cluster's longest date range: what a client needs to offer a configuration form without copying the engine's tables.
/// </summary>
/// <param name="Defaults">A config that sets nothing, as the validator reads it (strategy, dates and instruments empty).</param>
/// <param name="DefaultPriority">The priority of a start request that names none.</param>
/// <param name="MaxDurationYears">The longest date range the cluster admits (endDate at most startDate plus this many calendar
/// years) for a backtest, an optimization's base config and a walk-forward's whole span; null for no limit. The cluster's
/// deployment setting Backtesting:MaxDurationYears, as a silo reports it.</param>
public sealed record ConfigurationOptions(
    IReadOnlyList<string> Currencies,
    IReadOnlyList<string> AccountTypes,
    IReadOnlyList<string> Resolutions,
    IReadOnlyList<string> DataTypes,
    IReadOnlyList<string> Adjustments,
    IReadOnlyList<string> FillModels,
    IReadOnlyList<string> SlippageModels,
    IReadOnlyList<string> CommissionModels,
    IReadOnlyList<string> SizingModes,
    IReadOnlyList<string> Priorities,
    BacktestConfig Defaults,
    BacktestPriority DefaultPriority,
    int? MaxDurationYears)
{
    /// <summary>
    /// From their homes: the validator's word tables (what validation accepts), the priorities' enumeration, the
    /// defaults of <see cref="BacktestConfig"/> and of <see cref="BacktestSubmission"/>, and the cluster's settings.
    /// </summary>
    public static ConfigurationOptions Of(ClusterSettings cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return new(
            ConfigValidator.Currencies,
            ConfigValidator.AccountTypes,
            ConfigValidator.Resolutions,
            ConfigValidator.DataTypes,
            ConfigValidator.Adjustments,
            ConfigValidator.FillModels,
            ConfigValidator.SlippageModels,
            ConfigValidator.CommissionModels,
            ConfigValidator.SizingModes,
            EnumWords.Of<BacktestPriority>(),
            new BacktestConfig(),
            new BacktestSubmission(new BacktestConfig(), Owner: "").Priority,
            cluster.MaxDurationYears);
    }
}

public static class ConfigurationOptionsRoutes
{
    public const string Path = "/api/v1/configuration/options";

    /// <summary>
    /// Read-only and the same for everyone; like the instrument catalog, it answers signed-in callers only. The limit on
    /// dates comes from the cluster (a silo's setting), never from the API's own configuration, so the two cannot disagree.
    /// </summary>
    public static void MapConfigurationOptionsApi(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, async (IClusterClient client) => TypedResults.Ok(ConfigurationOptions.Of(await client.GetGrain<IClusterSettingsGrain>(0).Get())))
            .RequireAuthorization().WithTags("Catalog")
            .WithSummary("The words each enumerated config setting accepts, the default of every setting, and the longest date range the cluster admits")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
}
