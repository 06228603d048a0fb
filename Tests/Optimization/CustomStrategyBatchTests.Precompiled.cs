using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Protocol;
using Backtesting.Tests.Worker;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Backtesting.Tests.Optimization;

/// <summary>
/// A custom strategy compiled once by a compile-only run (<c>worker compile --output</c>) and handed to a batch's worker
/// (<c>--strategy-assembly</c>): the compile runs none of the strategy's code, the batch's trials equal their configs run
/// alone, static state still gets a fresh load per trial, and an assembly whose bytes changed, that fails the metadata
/// audit, or that another compiler version made is refused with nothing run.
/// </summary>
public partial class CustomStrategyBatchTests
{
    /// <summary>The compile-only run, as the silo runs it once per strategy version and worker: its output folder.</summary>
    private static string CompileOnly(TempFolder temp, string source)
    {
        var name = Guid.NewGuid().ToString("N");
        var sourcePath = temp.File(name + ".cs");
        File.WriteAllText(sourcePath, source);
        var output = temp.File("compiled-" + name);
        // The timeout turns a compile that ran the strategy's endless constructor into a failure rather than a hang.
        var (code, _, stderr) = WorkerProcess.Run("compile", "--source", sourcePath, "--output", output, "--timeout-seconds", "120");
        Assert.True(code == ExitCodes.Completed, stderr);
        return output;
    }

    private static string[] PrecompiledArgs(TempFolder temp, OptimizationBatch batch, string compiled, string output)
    {
        var batchPath = temp.File(Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(batchPath, JsonSerializer.Serialize(batch, JsonDefaults.Options));
        return ["optimize-batch", "--batch", batchPath, "--output", output, "--data", TestPaths.LeanData, "--strategy-assembly", compiled];
    }

    [Fact]
    public void The_compile_only_run_emits_the_assembly_its_hash_and_compiler_version_without_running_any_strategy_code()
    {
        using var temp = new TempFolder();
        // Creating this strategy never returns: a compile that constructed it would not finish.
        var source = Source("").Replace("public long Spins => _spins;", "public long Spins => _spins;\n    public Leaky() { while (Period > 0) { _spins++; } }",
            StringComparison.Ordinal);
        Assert.Contains("public Leaky()", source, StringComparison.Ordinal);

        var folder = CompileOnly(temp, source);

        var recorded = JsonSerializer.Deserialize<CompileResult>(File.ReadAllText(Path.Combine(folder, WorkerFiles.CompileResult)), JsonDefaults.Options)!;
        var assembly = File.ReadAllBytes(Path.Combine(folder, WorkerFiles.CompiledAssembly));
        Assert.True(recorded.Ok);
        Assert.Equal(StrategyCompiler.HashSource(source), recorded.SourceHash);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(assembly)), recorded.AssemblyHash);
        Assert.Equal(PrecompiledStrategy.CompilerVersion, recorded.CompilerVersion);
        Assert.Equal(["period", "fault"], recorded.Strategy!.Parameters.Select(p => p.Name));
        Assert.Equal("20", recorded.Strategy.Parameters[0].Default?.ToString());
        var (verified, problems) = PrecompiledStrategy.Verify(assembly, recorded);
        Assert.Empty(problems);
        Assert.Equal(assembly, verified!.Assembly);
    }

    [Fact]
    public void A_precompiled_strategy_with_static_state_loads_anew_for_each_trial_and_each_trial_equals_its_config_run_alone()
    {
        using var temp = new TempFolder();
        var id = Guid.NewGuid();
        var source = Source("");
        var (batch, plan) = Batch(source, id, """{"period":{"values":[10,20,30]},"fault":"none"}""");
        var compiled = CompileOnly(temp, source);

        var (code, lines, stderr) = WorkerProcess.Run(PrecompiledArgs(temp, batch, compiled, temp.File("run")));

        Assert.True(code == ExitCodes.Completed, stderr);
        Assert.Contains("the precompiled strategy's hash, compiler version and metadata audit hold", stderr, StringComparison.Ordinal);
        Assert.Contains("declares static fields (Leaky.s_runs): each trial loads it anew", stderr, StringComparison.Ordinal);
        var reader = new BatchLineReader(id, 0, batch.Trials.ToDictionary(t => t.Trial, t => t.Parameters), plan.Rules);
        var rows = lines.Select(reader.Read).OfType<BatchLine.Trial>().Select(t => t.Row).ToList();
        Assert.Equal(0, reader.Dropped);
        Assert.Equal(batch.Trials.Select(t => t.Trial), rows.Select(r => r.TrialNumber));
        foreach (var (trial, row) in batch.Trials.Zip(rows))
        {
            // It traded in every trial, so its static counter was fresh in each; and it equals its config compiled and run alone.
            Assert.True(row.TotalTrades > 0, $"trial {trial.Trial} did not trade: static state leaked into it");
            var alone = Alone(temp, plan, new TrialPoint(trial.Trial, trial.Parameters), source);
            Assert.Equal(Canonical(alone.GetProperty("metrics")), Canonical(JsonDocument.Parse(row.MetricsJson!).RootElement));
            Assert.Equal(alone.GetProperty("contentHash").GetString(), row.ContentHash);
            Assert.Equal(alone.GetProperty("trades").GetArrayLength(), row.TotalTrades);
        }
    }

    /// <summary>The ways a precompiled strategy can be wrong, each with the words its refusal must use.</summary>
    public static TheoryData<string, string> HostileCompiles => new()
    {
        { "bytesChanged", "its bytes changed after the compile" },
        { "failsTheAudit", "fails the metadata audit" },
        { "otherCompilerVersion", "compiled by compiler version 000000000000" },
        { "otherSource", "not the compile of the strategy version's source" },
        { "notAnImage", "not a readable .NET image" },
    };

    [Theory]
    [MemberData(nameof(HostileCompiles))]
    public void A_precompiled_strategy_that_is_not_exactly_this_workers_compile_refuses_the_batch_and_runs_nothing(string fault, string expected)
    {
        using var temp = new TempFolder();
        var id = Guid.NewGuid();
        var source = Source("");
        var (batch, _) = Batch(source, id, """{"period":{"values":[10,20]},"fault":"none"}""");
        var compiled = CompileOnly(temp, source);
        var dll = Path.Combine(compiled, WorkerFiles.CompiledAssembly);
        var compileJson = Path.Combine(compiled, WorkerFiles.CompileResult);
        var recorded = JsonNode.Parse(File.ReadAllText(compileJson))!.AsObject();
        void Record(string property, string value)
        {
            recorded[property] = value;
            File.WriteAllText(compileJson, recorded.ToJsonString());
        }

        switch (fault)
        {
            case "bytesChanged":
                // One byte of the image changed after the compile recorded its hash.
                var bytes = File.ReadAllBytes(dll);
                bytes[bytes.Length / 2] ^= 0x5A;
                File.WriteAllBytes(dll, bytes);
                break;
            case "failsTheAudit":
                // A hand-made image (plain Roslyn, no sandbox) that deletes files, named as the compile of this source would be
                // and recorded with its own true hash: only the audit stands between it and a load.
                var hostile = PlainRoslyn(source.Replace("_spins++;", "System.IO.File.Delete(\"/tmp/x\");", StringComparison.Ordinal),
                    PrecompiledStrategy.AssemblyNameFor(StrategyCompiler.HashSource(source)));
                File.WriteAllBytes(dll, hostile);
                Record("assemblyHash", Convert.ToHexStringLower(SHA256.HashData(hostile)));
                break;
            case "otherCompilerVersion":
                Record("compilerVersion", new string('0', 64));
                break;
            case "otherSource":
                // A genuine compile of another source, with a matching record: not this version's code.
                var other = StrategyCompiler.Compile(source.Replace("Min = 2, Max = 200", "Min = 3, Max = 200", StringComparison.Ordinal));
                Assert.True(other.Ok);
                File.WriteAllBytes(dll, other.Assembly!);
                Record("assemblyHash", other.AssemblyHash!);
                break;
            case "notAnImage":
                File.WriteAllText(dll, "MZ not an image");
                Record("assemblyHash", Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(dll))));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }

        var output = temp.File("run");
        var (code, lines, stderr) = WorkerProcess.Run(PrecompiledArgs(temp, batch, compiled, output));

        Assert.Equal(ExitCodes.InvalidConfig, code);
        var line = WorkerProcess.Parse(Assert.Single(lines));
        Assert.Equal(OptimizationMessageTypes.BatchError, line.GetProperty("type").GetString());
        var errors = line.GetProperty("data").GetProperty("errorDetails").GetProperty("validationErrors").EnumerateArray().ToList();
        Assert.All(errors, e => Assert.Equal("strategyAssembly", e.GetProperty("field").GetString()));
        Assert.Contains(errors, e => e.GetProperty("message").GetString()!.Contains(expected, StringComparison.Ordinal));
        // Each fault is caught by its own check: the other checks still hold for what they look at.
        if (fault is "failsTheAudit" or "otherCompilerVersion" or "otherSource")
        {
            Assert.DoesNotContain(errors, e => e.GetProperty("message").GetString()!.Contains("bytes changed", StringComparison.Ordinal));
        }

        Assert.DoesNotContain("each trial loads it anew", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(output, OptimizationFiles.TrialsDone)));
        Assert.False(File.Exists(Path.Combine(output, OptimizationFiles.TrialReturns)));
    }

    private static byte[] PlainRoslyn(string source, string assemblyName)
    {
        var tree = CSharpSyntaxTree.ParseText(source, StrategyCompiler.Parsing);
        var compilation = CSharpCompilation.Create(assemblyName, [tree], StrategyCompiler.ReferenceSet, StrategyCompiler.Compiling);
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return image.ToArray();
    }
}
