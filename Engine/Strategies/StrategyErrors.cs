using System.Text.Json;

namespace Backtesting.Engine.Strategies;

/// <summary>
/// The strategy-specific rules of a config, in one home for a backtest's validation and an optimization's trials:
/// the schema's per-parameter checks, and the rules across parameters (the strategy's own, e.g. fast below slow, and
/// the account's: a short side needs a margin account). An optimization validates the schema once for its whole space
/// and checks <see cref="Rules"/> per trial, where a broken rule makes the trial infeasible rather than the job invalid.
/// </summary>
public static class StrategyErrors
{
    /// <summary>Every strategy error of a config: the schema's first, and the cross-parameter rules when it keeps it.</summary>
    /// <param name="accountType">The config's account type word (cash, margin), null when it is itself invalid.</param>
    public static IReadOnlyList<ValidationError> Of(StrategyDescriptor descriptor, IReadOnlyDictionary<string, JsonElement> strategyConfig,
        string? accountType)
    {
        var errors = descriptor.SchemaErrors(strategyConfig).ToList();
        if (errors.Count == 0)
        {
            errors.AddRange(descriptor.RuleErrors(strategyConfig));
        }

        errors.AddRange(AccountErrors(strategyConfig, accountType));
        return errors;
    }

    /// <summary>The rules across parameters, for parameters that keep the schema (an optimization's trial).</summary>
    public static IReadOnlyList<ValidationError> Rules(StrategyDescriptor descriptor, IReadOnlyDictionary<string, JsonElement> strategyConfig,
        string? accountType) =>
        [.. descriptor.RuleErrors(strategyConfig), .. AccountErrors(strategyConfig, accountType)];

    private static IEnumerable<ValidationError> AccountErrors(IReadOnlyDictionary<string, JsonElement> strategyConfig, string? accountType)
    {
        if (accountType == "cash" && strategyConfig.TryGetValue("allowShort", out var allowShort) && allowShort.ValueKind == JsonValueKind.True)
        {
            yield return new ValidationError("strategyConfig.allowShort", "requiresMargin", "allowShort needs accountType margin");
        }
    }
}
