using Backtesting.Engine.Configuration;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Configuration;

/// <summary>
/// The words each enumerated setting of a config accepts, and the value of every setting a config leaves out: what a
/// client needs to offer a configuration form without copying the engine's tables.
/// </summary>
/// <param name="Defaults">A config that sets nothing, as the validator reads it (strategy, dates and instruments empty).</param>
/// <param name="DefaultPriority">The priority of a start request that names none.</param>
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
    BacktestPriority DefaultPriority)
{
    /// <summary>
    /// From their homes: the validator's word tables (what validation accepts), the priorities' enumeration, the
    /// defaults of <see cref="BacktestConfig"/> and of <see cref="BacktestSubmission"/>.
    /// </summary>
    public static ConfigurationOptions Current { get; } = new(
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
        new BacktestSubmission(new BacktestConfig(), Owner: "").Priority);
}

public static class ConfigurationOptionsRoutes
{
    public const string Path = "/api/v1/configuration/options";

    /// <summary>Read-only and the same for everyone; like the instrument catalog, it answers signed-in callers only.</summary>
    public static void MapConfigurationOptionsApi(this IEndpointRouteBuilder app) =>
        app.MapGet(Path, () => TypedResults.Ok(ConfigurationOptions.Current))
            .RequireAuthorization().WithTags("Catalog")
            .WithSummary("The words each enumerated config setting accepts, and the default of every setting")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
}
