using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;

namespace Backtesting.Worker;

/// <summary>
/// A custom strategy in an optimization batch: compiled and audited once (<see cref="StrategyCompiler.Compile"/>, both
/// layers of the sandbox), or taken precompiled from a compile-only run and verified (<see cref="PrecompiledStrategy.Verify"/>:
/// its recorded hash, this worker's compiler, the metadata audit again), and validated through the schema the compiler
/// read (no strategy code runs). What a trial runs
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

        return (For(compiled), []);
    }

    /// <summary>
    /// The strategies of a batch over a precompiled assembly: a folder holding a compile-only run's compile.json and
    /// strategy.dll. Loaded only when <see cref="PrecompiledStrategy.Verify"/> finds nothing wrong (its bytes are the ones the
    /// compile recorded, the compile is this worker's own, it passes the metadata audit); else null with every reason
    /// (field strategyAssembly), and nothing of it is loaded.
    /// </summary>
    public static (CustomTrialStrategies? Strategies, IReadOnlyList<ValidationError> Errors) Precompiled(string folder)
    {
        static ValidationError Error(string rule, string message) => new(Field, rule, message);
        byte[] assembly, compileJson;
        try
        {
            var compilePath = Path.Combine(folder, WorkerFiles.CompileResult);
            var assemblyPath = Path.Combine(folder, WorkerFiles.CompiledAssembly);
            if (new FileInfo(compilePath).Length > PrecompiledStrategy.MaxCompileResultBytes || new FileInfo(assemblyPath).Length > PrecompiledStrategy.MaxAssemblyBytes)
            {
                return (null, [Error("maxSize", $"{WorkerFiles.CompileResult} may hold at most {PrecompiledStrategy.MaxCompileResultBytes} bytes and " +
                    $"{WorkerFiles.CompiledAssembly} at most {PrecompiledStrategy.MaxAssemblyBytes}")]);
            }

            compileJson = File.ReadAllBytes(compilePath);
            assembly = File.ReadAllBytes(assemblyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, [Error("readable", $"cannot read the precompiled strategy in {folder}: {e.Message}")]);
        }

        CompileResult? recorded;
        try
        {
            recorded = JsonSerializer.Deserialize<CompileResult>(compileJson, JsonDefaults.Options);
        }
        catch (JsonException e)
        {
            return (null, [Error("compileResult", $"{WorkerFiles.CompileResult} is not a compile result: {e.Message}")]);
        }

        if (recorded is null)
        {
            return (null, [Error("compileResult", $"{WorkerFiles.CompileResult} is not a compile result")]);
        }

        var (compiled, problems) = PrecompiledStrategy.Verify(assembly, recorded);
        return compiled is null ? (null, problems.Select(p => Error("precompiled", p)).ToList()) : (For(compiled), []);
    }

    /// <summary>The field a precompiled assembly's errors name.</summary>
    public const string Field = "strategyAssembly";

    private static CustomTrialStrategies For(CompileResult compiled)
    {
        var catalog = StrategyCatalog.Templates.With([compiled.Strategy!.ToDescriptor(compiled.SourceHash)]);
        var statics = StaticState.Fields(compiled.Assembly!);
        if (statics.Count > 0)
        {
            var fresh = new TrialStrategies(() =>
            {
                var loaded = compiled.Load();
                return new TrialStrategyScope(loaded.WithTemplates(), loaded);
            }, WorkerProgram.DescribeStrategyFault);
            return new CustomTrialStrategies(catalog, fresh, statics);
        }

        // Loaded by the first trial (a constructor that throws fails each trial alike), then kept until the process ends.
        var shared = new Lazy<StrategyCatalog>(() => compiled.Load().WithTemplates());
        var once = new TrialStrategies(() => new TrialStrategyScope(shared.Value, null), WorkerProgram.DescribeStrategyFault);
        return new CustomTrialStrategies(catalog, once, statics);
    }
}
