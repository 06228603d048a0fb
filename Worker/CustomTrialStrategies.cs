using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Worker;

/// <summary>
/// A custom strategy in an optimization batch: compiled and audited once (<see cref="StrategyCompiler.Compile"/>, both
/// layers of the sandbox), validated through the schema the compiler read (no strategy code runs), and loaded anew for
/// every trial into a collectible load context of its own. Loading creates the strategy once and checks its defaults,
/// exactly as a single backtest's worker does, so a trial sees the same calls a backtest of its config sees, from fresh
/// static state: a static field a strategy changes in one trial does not exist in the next. The context is unloaded
/// when the trial ends.
/// </summary>
internal sealed record CustomTrialStrategies(StrategyCatalog Catalog, TrialStrategies Trials)
{
    /// <summary>The strategies of a batch over the source file; null with the errors (field strategySource) when it does not compile.</summary>
    public static (CustomTrialStrategies? Strategies, IReadOnlyList<ValidationError> Errors) Compile(string sourcePath)
    {
        string source;
        try
        {
            source = File.ReadAllText(sourcePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, [new ValidationError("strategySource", "readable", $"cannot read --strategy-source {sourcePath}: {e.Message}")]);
        }

        var compiled = StrategyCompiler.Compile(source);
        if (!compiled.Ok || compiled.Strategy is null)
        {
            return (null, compiled.Diagnostics.Where(d => d.Severity == CompileDiagnostic.Error)
                .Select(d => new ValidationError("strategySource", d.Id, $"line {d.Line}, column {d.Column}: {d.Message}")).ToList());
        }

        var catalog = StrategyCatalog.Templates.With([compiled.Strategy.ToDescriptor(compiled.SourceHash)]);
        var trials = new TrialStrategies(() =>
        {
            var loaded = compiled.Load();
            return new TrialStrategyScope(loaded.WithTemplates(), loaded);
        }, WorkerProgram.DescribeStrategyFault);
        return (new CustomTrialStrategies(catalog, trials), []);
    }
}
