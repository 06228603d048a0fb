using System.Text.Json.Serialization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Compiler;

/// <summary>
/// One problem found in a custom strategy's source, at a 1-based line and column (the end is where the span stops).
/// Ids starting with CS come from the C# compiler; ids starting with BT from the sandbox's rules (<see cref="SandboxRules"/>).
/// </summary>
/// <param name="Severity">error or warning; any error fails the compile.</param>
public sealed record CompileDiagnostic(string Id, string Severity, int Line, int Column, int EndLine, int EndColumn, string Message)
{
    public const string Error = "error";
    public const string Warning = "warning";

    public override string ToString() => $"strategy.cs({Line},{Column}): {Severity} {Id}: {Message}";
}

/// <summary>What a compiled custom strategy offers a backtest: the same shape the templates' schemas have.</summary>
public sealed record StrategySchema(string Name, string Description, int MaxInstruments, IReadOnlyList<ParameterSchema> Parameters)
{
    /// <summary>
    /// A descriptor that validates a config against this schema without running the strategy's code (for the API
    /// and the grains; the worker loads the code). Its source hash makes a run's content hash name this version.
    /// </summary>
    public StrategyDescriptor ToDescriptor(string sourceHash) =>
        StrategyDescriptor.FromSchema(Name, Description, MaxInstruments, Parameters, sourceHash);
}

/// <summary>
/// The outcome of <see cref="StrategyCompiler.Compile"/>. When <see cref="Ok"/>, <see cref="Strategy"/> holds the
/// strategy's schema and <see cref="Assembly"/> the compiled bytes; otherwise <see cref="Diagnostics"/> says why.
/// Serialized with the project's JSON options, this is what <c>worker compile</c> prints.
/// </summary>
/// <param name="SourceHash">SHA-256 (hex) of the source as compiled (line endings normalized to \n): the version's identity.</param>
/// <param name="AssemblyHash">SHA-256 (hex) of the compiled assembly; compilation is deterministic, so equal sources give equal bytes.</param>
public sealed record CompileResult(
    bool Ok,
    string SourceHash,
    string? AssemblyHash,
    StrategySchema? Strategy,
    IReadOnlyList<CompileDiagnostic> Diagnostics)
{
    /// <summary>The compiled assembly (a portable PE with its debug information embedded), when <see cref="Ok"/>.</summary>
    [JsonIgnore]
    public byte[]? Assembly { get; init; }

    /// <summary>
    /// The identity of the compiler that made this result (<see cref="PrecompiledStrategy.CompilerVersion"/>): a batch's
    /// worker loads a precompiled assembly only when it is its own.
    /// </summary>
    public string? CompilerVersion { get; init; }

    /// <summary>
    /// Loads the compiled strategy into a collectible context of its own and creates it once, so its constructor runs:
    /// only where untrusted code may run (the worker, under the run's watchdog). Dispose the result to unload it.
    /// </summary>
    public LoadedStrategy Load() =>
        Ok && Assembly is not null && Strategy is not null
            ? LoadedStrategy.Load(Assembly, Strategy.Name, SourceHash, Strategy)
            : throw new InvalidOperationException("the strategy did not compile: " + string.Join("; ", Diagnostics.Where(d => d.Severity == CompileDiagnostic.Error)));
}
