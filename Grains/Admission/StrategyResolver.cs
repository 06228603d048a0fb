using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;

namespace Backtesting.Grains.Admission;

/// <summary>The strategies a submission may name, and the custom strategy version it runs (null: a template).</summary>
public sealed record AdmittedStrategies(StrategyCatalog Strategies, StrategyVersion? Custom);

/// <summary>
/// Admission's strategy rule: the strategies a submission may name are the templates, plus the owner's custom strategy
/// that strategyClass names (its latest version, or the pinned one), validated through its stored schema without
/// running its code. Another owner's strategy is never found, so it answers like an unknown one.
/// </summary>
public sealed class StrategyResolver(StrategyCatalog templates, IStrategyStore store)
{
    /// <exception cref="BacktestValidationException">A version pinned where it cannot be, or one that does not exist.</exception>
    public Task<AdmittedStrategies> ResolveAsync(BacktestSubmission submission) =>
        ResolveAsync(submission.Owner, submission.Config.StrategyClass, submission.StrategyVersion);

    /// <summary>The same rule for any request that names a strategy and may pin a version (an optimization job too).</summary>
    /// <exception cref="BacktestValidationException">A version pinned where it cannot be, or one that does not exist.</exception>
    public async Task<AdmittedStrategies> ResolveAsync(string owner, string? name, int? pinned)
    {
        if (string.IsNullOrWhiteSpace(name) || templates.TryGet(name, out _))
        {
            if (pinned is not null)
            {
                throw new BacktestValidationException([new ValidationError("strategyVersion", "customOnly",
                    "strategyVersion pins a version of a custom strategy; templates have no versions")]);
            }

            return new AdmittedStrategies(templates, null);
        }

        if (ConfigValidator.StrategyVersion(pinned) is { } versionError)
        {
            throw new BacktestValidationException([versionError]);
        }

        var version = await store.GetByNameAsync(owner, name, pinned);
        if (version is null)
        {
            if (pinned is { } number && await store.GetByNameAsync(owner, name) is { } latest)
            {
                throw new BacktestValidationException([new ValidationError("strategyVersion", "unknown",
                    $"strategy '{name}' has no version {number} (latest: {latest.Version})")]);
            }

            return new AdmittedStrategies(templates, null); // the validator reports the unknown strategyClass
        }

        return new AdmittedStrategies(With(templates, version), version);
    }

    /// <summary>
    /// The templates plus one stored version, described by the schema its compile read (no strategy code runs): what a
    /// host that holds a version (a running job, a batch) validates against. Another owner's version is never found.
    /// </summary>
    public async Task<AdmittedStrategies?> VersionAsync(string owner, Guid strategyId, int version)
    {
        var stored = await store.GetAsync(owner, strategyId, version);
        return stored is null ? null : new AdmittedStrategies(With(templates, stored), stored);
    }

    private static StrategyCatalog With(StrategyCatalog templates, StrategyVersion version)
    {
        var schema = JsonSerializer.Deserialize<Compiler.StrategySchema>(version.SchemaJson, JsonDefaults.Options)
            ?? throw new InvalidOperationException($"strategy {version.StrategyId} version {version.Version} has no schema");
        return templates.With([schema.ToDescriptor(version.ContentHash)]);
    }
}
