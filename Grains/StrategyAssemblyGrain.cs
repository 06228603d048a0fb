using System.Security.Cryptography;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Backtesting.Grains;

/// <summary>
/// What <see cref="IStrategyAssemblyGrain.Obtain"/> gives a batch: the precompiled strategy's files, or why there are
/// none. <see cref="Refused"/>: the runner runs no custom strategies (the batch fails with that reason); any other
/// <see cref="Error"/>: the batch's worker compiles the source itself, as it would without a compile to reuse.
/// </summary>
/// <param name="Compiled">This call ran the compile (false: it reused a stored one).</param>
[GenerateSerializer, Immutable, Alias("strategy.assembly-result")]
public sealed record StrategyAssemblyResult(
    [property: Id(0)] byte[]? Assembly,
    [property: Id(1)] string? CompileResultJson,
    [property: Id(2)] string? Error,
    [property: Id(3)] bool Refused,
    [property: Id(4)] bool Compiled);

/// <summary>
/// The one compile of a custom strategy version for one worker version (key: <see cref="StrategyAssemblyGrain.Key"/>),
/// shared by every batch of every job that runs that version on that worker: one activation, so batches asking at once
/// wait for the same compile instead of each running one.
/// </summary>
[Alias("strategy.assembly-grain")]
public interface IStrategyAssemblyGrain : IGrainWithStringKey
{
    /// <summary>The owner's version compiled by <paramref name="workerVersion"/>: stored, or compiled now by a compile-only run and stored.</summary>
    [Alias("obtain"), ResponseTimeout("00:03:00")]
    Task<StrategyAssemblyResult> Obtain(string owner, Guid strategyId, int version, string workerVersion);
}

/// <summary>
/// Obtains a custom strategy version's compiled assembly once per worker version. A stored compile
/// (<see cref="PostgresStrategyAssemblyStore"/>) is reused; otherwise this silo's runner runs <c>worker compile --output</c>
/// in the same sandbox as a run (a compile-only run: it loads and runs none of the strategy's code, so its output is the
/// compiler's alone), and the result is stored when it holds together: it compiled, it names the version's source hash,
/// the assembly's SHA-256 is the one the compile reported, and it carries the compiler's version. The silo never loads or
/// parses the assembly; each batch's worker verifies it again before loading it (<see cref="PrecompiledStrategy.Verify"/>).
/// Placed on the calling silo, whose runner is the worker version the key names.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed partial class StrategyAssemblyGrain(
    IBacktestRunner runner,
    IStrategyStore strategies,
    PostgresStrategyAssemblyStore assemblies,
    IMarketDataProvider data,
    IOptions<BacktestClusterOptions> options,
    ILogger<StrategyAssemblyGrain> log) : Grain, IStrategyAssemblyGrain
{
    private StrategyAssemblyResult? _obtained;

    /// <summary>The grain of one version's compile by one worker version.</summary>
    public static string Key(Guid strategyId, int version, string workerVersion) => $"{strategyId:N}/{version}/{workerVersion}";

    public async Task<StrategyAssemblyResult> Obtain(string owner, Guid strategyId, int version, string workerVersion)
    {
        if (_obtained is { } known)
        {
            return known with { Compiled = false };
        }

        // The owner's own version only: another owner's id answers like one that does not exist.
        if (await strategies.GetAsync(owner, strategyId, version) is not { } stored)
        {
            return Failed($"version {version} of the strategy does not exist");
        }

        if (await assemblies.GetAsync(strategyId, version, workerVersion) is { } row)
        {
            return _obtained = row.SourceHash == stored.ContentHash
                ? Files(row, compiled: false)
                : Failed($"the stored compile names source {row.SourceHash[..12]}, not the version's {stored.ContentHash[..12]}");
        }

        string? mine;
        try
        {
            mine = await runner.WorkerVersionAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is RunnerUnavailableException or RunnerInterruptedException)
        {
            return Failed(e.Message);
        }

        if (mine != workerVersion)
        {
            return Failed($"this silo's worker is another version ({mine ?? "none"}) than the one asked for");
        }

        var settings = options.Value;
        var directory = Path.Combine(settings.WorkDirectory, "precompile-" + Guid.NewGuid().ToString("N"));
        var dataDirectory = data is LeanDataProvider lean ? lean.DataRoot : DataRoot.Locate(settings.DataDirectory) ?? "";
        try
        {
            CompileOutput output;
            try
            {
                output = await runner.CompileStrategyAsync(new CompileRequest(stored.Source, directory, dataDirectory, settings.CompileTimeout,
                    KeepAssembly: true), CancellationToken.None);
            }
            catch (CustomStrategyRefusedException e)
            {
                return new StrategyAssemblyResult(null, null, e.Message, Refused: true, Compiled: false);
            }
            catch (Exception e) when (e is RunnerUnavailableException or RunnerInterruptedException)
            {
                return Failed(e.Message);
            }

            var result = StrategyCompileGrain.Parse(output.Stdout);
            if (result is not { Ok: true, Strategy: { } schema, AssemblyHash: { } assemblyHash, CompilerVersion: { Length: > 0 } compilerVersion })
            {
                return Failed(output.Killed ? "the compile did not finish in time" : "the compile did not succeed: " +
                    string.Join("; ", result?.Diagnostics.Where(d => d.Severity == CompileDiagnostic.Error).Take(3) ?? []));
            }

            if (result.SourceHash != stored.ContentHash)
            {
                return Failed($"the compile read source {result.SourceHash[..Math.Min(12, result.SourceHash.Length)]}, not the version's {stored.ContentHash[..12]}");
            }

            var assembly = await ReadAssembly(Path.Combine(directory, WorkerFiles.CompiledAssembly));
            if (assembly is null || Convert.ToHexStringLower(SHA256.HashData(assembly)) != assemblyHash)
            {
                return Failed("the compile's assembly is missing, too large, or not the one its result names");
            }

            var saved = await assemblies.SaveAsync(new StrategyAssembly(strategyId, version, workerVersion, result.SourceHash, compilerVersion,
                assembly, assemblyHash, JsonSerializer.Serialize(schema, JsonDefaults.Options)));
            LogCompiled(log, strategyId, version, assemblyHash[..12], workerVersion);
            return _obtained = Files(saved, compiled: true);
        }
        finally
        {
            TryDelete(directory);
        }
    }

    private StrategyAssemblyResult Failed(string reason)
    {
        LogNotPrecompiled(log, this.GetPrimaryKeyString(), reason);
        return new StrategyAssemblyResult(null, null, reason, Refused: false, Compiled: false);
    }

    /// <summary>What a batch's worker reads: the assembly and the compile's result as the compile-only run reported it.</summary>
    private static StrategyAssemblyResult Files(StrategyAssembly row, bool compiled)
    {
        var schema = JsonSerializer.Deserialize<StrategySchema>(row.SchemaJson, JsonDefaults.Options)!;
        var result = new CompileResult(true, row.SourceHash, row.AssemblyHash, schema, []) { CompilerVersion = row.CompilerVersion };
        return new StrategyAssemblyResult(row.Assembly, JsonSerializer.Serialize(result, JsonDefaults.Options), null, Refused: false, compiled);
    }

    /// <summary>The assembly the compile wrote (a plain file, never a link), or null when it is missing or too large.</summary>
    private static async Task<byte[]?> ReadAssembly(string path)
    {
        await using var stream = AttemptFolder.OpenRead(path);
        if (stream is null || stream.Length > PrecompiledStrategy.MaxAssemblyBytes)
        {
            return null;
        }

        var bytes = new byte[stream.Length];
        await stream.ReadExactlyAsync(bytes);
        return bytes;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover folder in the work directory is harmless.
        }
    }
}
