using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;

namespace Backtesting.Grains.Admission;

/// <summary>
/// Admission's strategy rule for an optimization job, the backtests' own (<see cref="StrategyResolver"/>): the templates,
/// or the owner's custom strategy that baseConfig.strategyClass names, at the version the job pins (strategyVersion) or
/// else the latest, which is then pinned into the job so that every batch, on any silo, runs exactly that version.
/// </summary>
public static class OptimizationAdmission
{
    /// <exception cref="OptimizationValidationException">A version pinned where it cannot be, or one that does not exist.</exception>
    public static async Task<(StrategyCatalog Strategies, StrategyVersion? Custom, OptimizationConfig Config)> ResolveAsync(
        StrategyResolver resolver, OptimizationSubmission submission)
    {
        AdmittedStrategies admitted;
        try
        {
            admitted = await resolver.ResolveAsync(submission.Owner, submission.Config.BaseConfig.StrategyClass, submission.Config.StrategyVersion);
        }
        catch (BacktestValidationException e)
        {
            throw new OptimizationValidationException(e.Errors);
        }

        var config = admitted.Custom is { } custom ? submission.Config with { StrategyVersion = custom.Version } : submission.Config;
        return (admitted.Strategies, admitted.Custom, config);
    }
}
