using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Backtesting.Grains;

/// <summary>
/// Compiles uploads with the silo's runner, in the same sandbox as a run, and stores the versions that compile.
/// A stateless worker: each silo keeps local activations, so compiles run where the runner (and the Docker
/// daemon it talks to) is, and several compiles may run at once. Reentrant, so every call reaches the silo's
/// <see cref="CompileScheduler"/>, which shares the compiles fairly between users (rather than queueing behind
/// whichever activation took the call).
/// </summary>
[StatelessWorker, Reentrant]
public sealed partial class StrategyCompileGrain(
    IBacktestRunner runner,
    CompileScheduler scheduler,
    IStrategyStore store,
    IMarketDataProvider data,
    IOptions<BacktestClusterOptions> options,
    ILogger<StrategyCompileGrain> log) : Grain, IStrategyCompileGrain
{
    public async Task<StrategyUploadResult> Upload(string owner, string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(source);
        source = StrategyCompiler.Normalize(source);
        var sourceHash = StrategyCompiler.HashSource(source);
        var settings = options.Value;
        // The longest a compile can hold a slot: what a refused user waits at most before one of theirs is done.
        var retryAfter = (int)Math.Ceiling((settings.CompileTimeout + CompileRequest.KillSlack).TotalSeconds);
        if (scheduler.TryEnter(owner) is not { } waitForSlot)
        {
            return new StrategyUploadResult(StrategyUploadOutcome.Busy, [], null, sourceHash,
                $"at most {settings.MaxConcurrentCompilesPerOwner} compile(s) running and {settings.MaxQueuedCompilesPerOwner} waiting per user; retry in {retryAfter} s",
                retryAfter);
        }

        using var slot = await waitForSlot;
        var directory = Path.Combine(settings.WorkDirectory, "compile-" + Guid.NewGuid().ToString("N"));
        var dataDirectory = data is LeanDataProvider lean ? lean.DataRoot : DataRoot.Locate(settings.DataDirectory) ?? "";
        CompileOutput output;
        try
        {
            output = await runner.CompileStrategyAsync(new CompileRequest(source, directory, dataDirectory, settings.CompileTimeout),
                CancellationToken.None);
        }
        catch (CustomStrategyRefusedException e)
        {
            return new StrategyUploadResult(StrategyUploadOutcome.Refused, [], null, sourceHash, e.Message);
        }
        catch (RunnerUnavailableException e)
        {
            LogCompileUnavailable(log, owner, e.Message);
            return new StrategyUploadResult(StrategyUploadOutcome.Unavailable, [], null, sourceHash, e.Message);
        }
        finally
        {
            TryDelete(directory);
        }

        // A stack overflow kills the worker before it prints anything; it is the source's fault, so a 422 naming the method.
        var result = Parse(output.Stdout) ?? (StrategyCompiler.OverflowedMethod(output.Stderr) is { } method ? StrategyCompiler.StackOverflow(source, method) : null);
        if (result is null)
        {
            var detail = output.Killed
                ? $"compiling did not finish within {settings.CompileTimeout.TotalSeconds:G} s and was stopped"
                : $"the compiler exited with code {output.ExitCode} without a result: {Tail(output.Stderr)}";
            LogCompileWithoutResult(log, owner, detail);
            return new StrategyUploadResult(output.Killed ? StrategyUploadOutcome.TimedOut : StrategyUploadOutcome.Unavailable, [], null,
                sourceHash, detail);
        }

        var diagnostics = result.Diagnostics
            .Select(d => new StrategyDiagnostic(d.Id, d.Severity, d.Line, d.Column, d.EndLine, d.EndColumn, d.Message)).ToList();
        if (!result.Ok || result.Strategy is null)
        {
            var timedOut = result.Diagnostics.Any(d => d.Id == SandboxRules.CompileTimedOut);
            return new StrategyUploadResult(timedOut ? StrategyUploadOutcome.TimedOut : StrategyUploadOutcome.Rejected, diagnostics, null,
                result.SourceHash, timedOut ? $"compiling did not finish within {settings.CompileTimeout.TotalSeconds:G} s" : "the source was rejected");
        }

        var schemaJson = JsonSerializer.Serialize(result.Strategy, JsonDefaults.Options);
        var latest = await store.GetByNameAsync(owner, result.Strategy.Name);
        var saved = await store.SaveVersionAsync(owner, result.Strategy.Name, source, result.SourceHash, schemaJson);
        var created = latest is null || latest.Version != saved.Version;
        LogStored(log, saved.Name, owner, saved.Version, created ? "stored" : "unchanged");

        return new StrategyUploadResult(StrategyUploadOutcome.Stored, diagnostics,
            new StoredStrategyVersion(saved.StrategyId, saved.Name, saved.Version, saved.ContentHash, schemaJson, saved.CreatedAt, created),
            result.SourceHash, null);
    }

    /// <summary>The CompileResult the worker printed: its stdout holds that one JSON object (the last line that parses).</summary>
    internal static CompileResult? Parse(string stdout)
    {
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Reverse())
        {
            try
            {
                if (JsonSerializer.Deserialize<CompileResult>(line, JsonDefaults.Options) is { SourceHash.Length: > 0 } result)
                {
                    return result;
                }
            }
            catch (JsonException)
            {
                // Not the result line.
            }
        }

        return null;
    }

    private static string Tail(string text) => text.Length <= 500 ? text.Trim() : "…" + text[^500..].Trim();

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover folder in the work directory is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
