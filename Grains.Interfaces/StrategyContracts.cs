namespace Backtesting.Grains.Interfaces;

/// <summary>The custom strategy version a backtest runs: kept in its state and shown in its status.</summary>
/// <param name="SourceHash">SHA-256 of the version's normalized source: its identity.</param>
[GenerateSerializer, Immutable, Alias("strategy.ref")]
public sealed record CustomStrategyRef(
    [property: Id(0)] Guid StrategyId,
    [property: Id(1)] string Name,
    [property: Id(2)] int Version,
    [property: Id(3)] string SourceHash);

/// <summary>One problem in an uploaded source, at a 1-based line and column (the compiler's diagnostic).</summary>
[GenerateSerializer, Immutable, Alias("strategy.diagnostic")]
public sealed record StrategyDiagnostic(
    [property: Id(0)] string Id,
    [property: Id(1)] string Severity,
    [property: Id(2)] int Line,
    [property: Id(3)] int Column,
    [property: Id(4)] int EndLine,
    [property: Id(5)] int EndColumn,
    [property: Id(6)] string Message);

/// <summary>A stored version of a custom strategy, as an upload returns it.</summary>
/// <param name="SchemaJson">The strategy's parameter schema (name, description, maxInstruments, parameters) as JSON.</param>
/// <param name="Created">False when the latest version already had this source, so nothing new was stored.</param>
[GenerateSerializer, Immutable, Alias("strategy.stored-version")]
public sealed record StoredStrategyVersion(
    [property: Id(0)] Guid StrategyId,
    [property: Id(1)] string Name,
    [property: Id(2)] int Version,
    [property: Id(3)] string SourceHash,
    [property: Id(4)] string SchemaJson,
    [property: Id(5)] DateTime CreatedAt,
    [property: Id(6)] bool Created);

/// <summary>How an upload went.</summary>
[GenerateSerializer, Alias("strategy.upload-outcome")]
public enum StrategyUploadOutcome
{
    /// <summary>Compiled and stored: <see cref="StrategyUploadResult.Version"/> says which version.</summary>
    Stored = 0,
    /// <summary>The source did not compile or broke the sandbox's rules: see the diagnostics.</summary>
    Rejected = 1,
    /// <summary>Compiling did not finish within the compile timeout.</summary>
    TimedOut = 2,
    /// <summary>This cluster's runner does not run custom strategies (they need the Docker runner).</summary>
    Refused = 3,
    /// <summary>The runner cannot work at all right now (e.g. the Docker daemon does not answer).</summary>
    Unavailable = 4,
    /// <summary>The user has as many compiles running and waiting as allowed: retry after <see cref="StrategyUploadResult.RetryAfterSeconds"/>.</summary>
    Busy = 10,
}

[GenerateSerializer, Immutable, Alias("strategy.upload-result")]
public sealed record StrategyUploadResult(
    [property: Id(0)] StrategyUploadOutcome Outcome,
    [property: Id(1)] IReadOnlyList<StrategyDiagnostic> Diagnostics,
    [property: Id(2)] StoredStrategyVersion? Version,
    [property: Id(3)] string SourceHash,
    [property: Id(4)] string? Detail,
    [property: Id(5)] int? RetryAfterSeconds = null);

/// <summary>
/// Compiles uploaded strategy sources where a run of them would run: in a worker container of the Docker runner
/// (or a worker process when the process runner is allowed custom strategies), never in the silo's own process,
/// because deriving the schema runs the strategy's constructor. Stateless: any silo with the runner takes a call.
/// </summary>
[Alias("strategy.compile-grain")]
public interface IStrategyCompileGrain : IGrainWithIntegerKey
{
    /// <summary>Compiles <paramref name="source"/> and, when it compiles, stores it as the owner's next version.</summary>
    [Alias("upload"), ResponseTimeout("00:03:00")]
    Task<StrategyUploadResult> Upload(string owner, string source);
}
