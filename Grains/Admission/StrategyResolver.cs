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
    public async Task<AdmittedStrategies> ResolveAsync(BacktestSubmission submission)
    {
        var name = submission.Config.StrategyClass;
        if (string.IsNullOrWhiteSpace(name) || templates.TryGet(name, out _))
        {
            if (submission.StrategyVersion is not null)
            {
                throw new BacktestValidationException([new ValidationError("strategyVersion", "customOnly",
                    "strategyVersion pins a version of a custom strategy; templates have no versions")]);
            }

            return new AdmittedStrategies(templates, null);
        }

        if (ConfigValidator.StrategyVersion(submission.StrategyVersion) is { } versionError)
        {
            throw new BacktestValidationException([versionError]);
        }

        var version = await store.GetByNameAsync(submission.Owner, name, submission.StrategyVersion);
        if (version is null)
        {
            if (submission.StrategyVersion is { } pinned && await store.GetByNameAsync(submission.Owner, name) is { } latest)
            {
                throw new BacktestValidationException([new ValidationError("strategyVersion", "unknown",
                    $"strategy '{name}' has no version {pinned} (latest: {latest.Version})")]);
            }

            return new AdmittedStrategies(templates, null); // the validator reports the unknown strategyClass
        }

        var schema = JsonSerializer.Deserialize<Compiler.StrategySchema>(version.SchemaJson, JsonDefaults.Options)
            ?? throw new InvalidOperationException($"strategy {version.StrategyId} version {version.Version} has no schema");
        return new AdmittedStrategies(templates.With([schema.ToDescriptor(version.ContentHash)]), version);
    }
}
