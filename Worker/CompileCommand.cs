using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;

namespace Backtesting.Worker;

/// <summary>
/// <c>worker compile --source strategy.cs [--output dir] [--timeout-seconds n]</c>: compiles a custom strategy
/// in the sandbox and prints one JSON object, the <see cref="CompileResult"/> (ok, sourceHash, assemblyHash,
/// strategy schema, diagnostics). With --output it also writes it to compile.json, and the assembly to
/// strategy.dll when it compiled. Compiling runs none of the strategy's code (the schema is read from the source);
/// the timeout bounds the compiler itself on a pathological source.
/// </summary>
internal static class CompileCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? source = null, output = null;
        TimeSpan? timeout = null;
        for (var i = 0; i < args.Count; i++)
        {
            string? Next() => i + 1 < args.Count ? args[++i] : null;
            switch (args[i])
            {
                case "--source":
                    source = Next();
                    break;
                case "--output":
                    output = Next();
                    break;
                case "--timeout-seconds":
                    if ((timeout = WorkerOptions.ParseSeconds(Next())) is null)
                    {
                        return Usage(stderr, "--timeout-seconds needs a positive number");
                    }

                    break;
                default:
                    return Usage(stderr, $"unknown argument '{args[i]}'");
            }
        }

        if (source is null)
        {
            return Usage(stderr, "--source <strategy.cs> is required");
        }

        string text;
        try
        {
            text = File.ReadAllText(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Usage(stderr, $"cannot read --source {source}: {e.Message}");
        }

        using var deadline = timeout is null ? null : new Timer(_ =>
        {
            // The main thread is inside the compiler, so nothing else writes now.
            Report(StrategyCompiler.TimedOut(text, timeout!.Value), output, stdout, stderr);
            stdout.Flush();
            stderr.Flush();
            Environment.Exit(ExitCodes.TimedOut);
        }, null, timeout.Value, Timeout.InfiniteTimeSpan);

        var result = StrategyCompiler.Compile(text);
        deadline?.Change(Timeout.Infinite, Timeout.Infinite);
        Report(result, output, stdout, stderr);

        stderr.WriteLine(result.Ok
            ? $"compiled {result.Strategy!.Name} ({result.Strategy.Parameters.Count} parameter(s)), source {result.SourceHash[..12]}"
            : $"compile failed with {result.Diagnostics.Count(d => d.Severity == CompileDiagnostic.Error)} error(s)");
        return result.Ok ? ExitCodes.Completed : ExitCodes.CompileFailed;
    }

    private static void Report(CompileResult result, string? output, TextWriter stdout, TextWriter stderr)
    {
        var json = JsonSerializer.Serialize(result, JsonDefaults.Options);
        if (output is not null)
        {
            Directory.CreateDirectory(output);
            AtomicFile.Write(Path.Combine(output, WorkerFiles.CompileResult), System.Text.Encoding.UTF8.GetBytes(json));
            if (result.Assembly is not null)
            {
                AtomicFile.Write(Path.Combine(output, WorkerFiles.CompiledAssembly), result.Assembly);
            }
        }

        stdout.WriteLine(json);
        foreach (var diagnostic in result.Diagnostics)
        {
            stderr.WriteLine(diagnostic);
        }
    }

    private static int Usage(TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        stderr.WriteLine(WorkerOptions.Usage);
        return ExitCodes.Usage;
    }
}
