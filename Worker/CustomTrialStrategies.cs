using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Worker;

/// <summary>
/// A custom strategy in an optimization batch: compiled and audited once (<see cref="StrategyCompiler.Compile"/>, both
/// layers of the sandbox) and validated through the schema the compiler read (no strategy code runs). What a trial runs
/// against depends on where the code could keep state between runs (<see cref="StaticState"/>): a strategy whose types
/// declare no static field keeps all its state in its instance, which each trial creates anew, so one collectible load
/// context serves the whole batch; a strategy with any static field is loaded anew for every trial, into a load context
/// of its own unloaded when the trial ends, so what one trial leaves in a static field does not exist in the next.
/// Loading creates the strategy once and checks its defaults, exactly as a single backtest's worker does.
/// </summary>
/// <param name="StaticFields">The static fields that made each trial load the code anew; empty: one load for the batch.</param>
internal sealed record CustomTrialStrategies(StrategyCatalog Catalog, TrialStrategies Trials, IReadOnlyList<string> StaticFields)
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
        if (!compiled.Ok || compiled.Strategy is null || compiled.Assembly is null)
        {
            return (null, compiled.Diagnostics.Where(d => d.Severity == CompileDiagnostic.Error)
                .Select(d => new ValidationError("strategySource", d.Id, $"line {d.Line}, column {d.Column}: {d.Message}")).ToList());
        }

        var catalog = StrategyCatalog.Templates.With([compiled.Strategy.ToDescriptor(compiled.SourceHash)]);
        var statics = StaticState.Fields(compiled.Assembly);
        if (statics.Count > 0)
        {
            var fresh = new TrialStrategies(() =>
            {
                var loaded = compiled.Load();
                return new TrialStrategyScope(loaded.WithTemplates(), loaded);
            }, WorkerProgram.DescribeStrategyFault);
            return (new CustomTrialStrategies(catalog, fresh, statics), []);
        }

        // Loaded by the first trial (a constructor that throws fails each trial alike), then kept until the process ends.
        var shared = new Lazy<StrategyCatalog>(() => compiled.Load().WithTemplates());
        var once = new TrialStrategies(() => new TrialStrategyScope(shared.Value, null), WorkerProgram.DescribeStrategyFault);
        return (new CustomTrialStrategies(catalog, once, statics), []);
    }
}
