using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Backtesting.Engine.Strategies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Backtesting.Compiler;

/// <summary>
/// A custom strategy compiled once (by a compile-only run: <c>worker compile --output</c>, which loads and runs none of
/// the strategy's code) and then handed to every batch of an optimization job instead of its source. Before a batch's
/// worker loads it, <see cref="Verify"/> holds it to the same two layers a fresh compile meets: its bytes must be the
/// ones the compile recorded (SHA-256), it must come from this very compiler (<see cref="CompilerVersion"/>: a new
/// worker never loads an old worker's output), it must name the strategy version's source, and the metadata audit
/// (<see cref="AssemblyAudit"/>) runs on it again. Any mismatch refuses it; nothing of it is loaded.
/// </summary>
public static class PrecompiledStrategy
{
    /// <summary>The largest assembly a batch accepts (a strategy of at most 100,000 source bytes emits far less).</summary>
    public const int MaxAssemblyBytes = 8 << 20;

    /// <summary>The largest compile.json a batch accepts.</summary>
    public const int MaxCompileResultBytes = 1 << 20;

    private static readonly Lazy<string> Version = new(ComputeVersion);

    /// <summary>
    /// This compiler's identity: SHA-256 (hex) over the module version ids of the assemblies that decide a compile's bytes
    /// (the compiler, the engine a strategy compiles against, Roslyn, the runtime's core library) and the runtime's
    /// version. Builds are deterministic, so the same sources give the same id; any change to one of them changes it.
    /// </summary>
    public static string CompilerVersion => Version.Value;

    private static string ComputeVersion()
    {
        var parts = new[] { typeof(PrecompiledStrategy), typeof(Strategy), typeof(CSharpCompilation), typeof(Compilation), typeof(object) }
            .Select(t => t.Assembly)
            .Select(a => $"{a.GetName().Name} {a.ManifestModule.ModuleVersionId:N}")
            .Append(RuntimeInformation.FrameworkDescription);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))));
    }

    /// <summary>The assembly name a compile of this source emits (<see cref="StrategyCompiler"/> names it after the source hash).</summary>
    public static string AssemblyNameFor(string sourceHash) => "CustomStrategy_" + sourceHash[..Math.Min(16, sourceHash.Length)];

    /// <summary>
    /// Checks a precompiled assembly against the compile that made it (<paramref name="recorded"/>, the compile.json of a
    /// compile-only run) and returns it ready to load, or every reason it may not be loaded. Runs none of its code.
    /// </summary>
    public static (CompileResult? Compiled, IReadOnlyList<string> Problems) Verify(byte[] assembly, CompileResult recorded)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(recorded);
        var problems = new List<string>();
        if (!recorded.Ok || recorded.Strategy is null || string.IsNullOrEmpty(recorded.AssemblyHash) || string.IsNullOrEmpty(recorded.SourceHash))
        {
            problems.Add("the recorded compile did not succeed (no strategy schema or no assembly hash)");
            return (null, problems);
        }

        if (recorded.CompilerVersion != CompilerVersion)
        {
            problems.Add($"the assembly was compiled by compiler version {Short(recorded.CompilerVersion)}, but this worker's is {Short(CompilerVersion)}: " +
                "a compile is used only by the worker version that made it");
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(assembly));
        if (!string.Equals(actual, recorded.AssemblyHash, StringComparison.Ordinal))
        {
            problems.Add($"the assembly's SHA-256 is {Short(actual)}, but its compile recorded {Short(recorded.AssemblyHash)}: its bytes changed after the compile");
        }

        try
        {
            var name = AssemblyName(assembly);
            if (name != AssemblyNameFor(recorded.SourceHash))
            {
                problems.Add($"the assembly is named {name}, not {AssemblyNameFor(recorded.SourceHash)}: it is not the compile of the strategy version's source");
            }

            // The second layer, again, on exactly the bytes that would be loaded: it holds without the first.
            problems.AddRange(AssemblyAudit.FindViolations(assembly).Select(v => $"the assembly fails the metadata audit ({SandboxRules.AssemblyAudit}): {v}"));
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            problems.Add($"the assembly is not a readable .NET image: {e.Message}");
        }

        return problems.Count > 0 ? (null, problems) : (recorded with { Diagnostics = [], Assembly = assembly }, []);
    }

    private static string AssemblyName(byte[] image)
    {
        using var pe = new PEReader(ImmutableArray.Create(image));
        var metadata = pe.GetMetadataReader();
        return metadata.GetString(metadata.GetAssemblyDefinition().Name);
    }

    private static string Short(string? hash) => string.IsNullOrEmpty(hash) ? "(none)" : hash.Length <= 12 ? hash : hash[..12];
}
