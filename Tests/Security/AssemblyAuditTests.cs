using Backtesting.Compiler;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Backtesting.Tests.Security;

/// <summary>
/// The metadata audit on its own: each image is compiled with plain Roslyn (none of the sandbox's syntax checks), so these prove the audit holds even where the syntax walk had a gap.
/// </summary>
public sealed class AssemblyAuditTests
{
    private const string Usings = "using System; using System.Runtime.InteropServices; using System.Runtime.CompilerServices;\n";

    public static TheoryData<string, string, string> Offending => new()
    {
        { "explicit layout", "[StructLayout(LayoutKind.Explicit)] public struct Overlay { [FieldOffset(0)] public object A; [FieldOffset(0)] public string B; }", "explicit layout" },
        { "field offsets", "[StructLayout(LayoutKind.Explicit)] public struct Overlay { [FieldOffset(0)] public long A; }", "explicit offset" },
        { "sequential layout with a size", "[StructLayout(LayoutKind.Sequential, Size = 64)] public struct Padded { public int A; }", "packing or size" },
        { "sequential layout with packing", "[StructLayout(LayoutKind.Sequential, Pack = 1)] public struct Packed { public byte A; public long B; }", "packing or size" },
        { "a type in System", "namespace System.Sneaky { public sealed class Helper { } }", "reserved namespace" },
        { "a type in @System", "namespace @System.Sneaky { public sealed class Helper { } }", "reserved namespace" },
        { "a type in system, lower case", "namespace system.sneaky { public sealed class Helper { } }", "reserved namespace" },
        { "a type in Backtesting", "namespace Backtesting.Engine { public sealed class Helper { } }", "reserved namespace" },
        { "a module initializer", "public static class Init { [ModuleInitializer] public static void Run() { } }", "module initializer" },
        { "DllImport", "public static class Native { [DllImport(\"libc\")] public static extern int getpid(); }", "imports native code" },
        { "an internal call", "public static class Native { [MethodImpl(MethodImplOptions.InternalCall)] public static extern int Sneaky(); }", "implemented outside its IL" },
        { "Unsafe.As from the strategy's code", "public static class Cast { public static string Confuse(object o) => Unsafe.As<string>(o); }", "only the compiler's own helpers may call" },
        { "MemoryMarshal.CreateSpan from the strategy's code", "public static class Wide { public static Span<int> Far(ref int x) => MemoryMarshal.CreateSpan(ref x, 1 << 20); }", "only the compiler's own helpers may call" },
        { "an attribute outside the lists", "[System.ComponentModel.Description(\"x\")] public static class Described { }", "System.ComponentModel.DescriptionAttribute" },
        { "an inline array of its own", "[InlineArray(4)] public struct Four { private object _element; }", "only the compiler's inline arrays" },
        { "an attribute it declares itself", "public sealed class MarkAttribute : Attribute { } [Mark] public sealed class Marked { }", "which it declares itself" },
        { "an assembly attribute", "[assembly: System.Reflection.AssemblyMetadata(\"a\", \"b\")] public sealed class Plain { }", "AssemblyMetadataAttribute" },
        { "a forbidden type", "public static class Reader { public static string Read() => System.IO.File.ReadAllText(\"/etc/passwd\"); }", "System.IO.File" },
        { "the wall clock", "public static class Clock { public static DateTime Read() => DateTime.UtcNow; }", "wall clock" },
        { "a string's randomized hash", "public static class Hash { public static int Of(string s) => s.GetHashCode(); }", "seeded per process" },
        { "an object's identity hash", "public sealed class Hash { public override int GetHashCode() => base.GetHashCode(); }", "seeded per process" },
        { "HashCode", "public static class Hash { public static int Of(int a) => HashCode.Combine(a); }", "System.HashCode" },
    };

    [Theory]
    [MemberData(nameof(Offending))]
    public void The_audit_alone_refuses(string name, string source, string says)
    {
        var violations = AssemblyAudit.FindViolations(CompileWithoutTheSandbox(Usings + source));

        Assert.True(violations.Any(v => v.Contains(says, StringComparison.Ordinal)), $"{name}: nothing saying '{says}' in:\n{string.Join("\n", violations)}");
    }

    [Fact]
    public void The_audit_passes_what_the_compiler_emits_for_ordinary_code()
    {
        // Inline arrays (params spans, collection expressions), array data, iterators, records, lambdas, lock, events.
        const string Source = """
            using System.Collections.Generic;
            public sealed record Level(string Name, double Price);
            public readonly struct Empty { }
            public sealed class Ordinary
            {
                private readonly object _gate = new();
                public event System.Action<int>? Changed;
                public IEnumerable<int> Evens(int n) { for (var i = 0; i < n; i += 2) yield return i; }
                public string Run(int k)
                {
                    System.ReadOnlySpan<int> data = [1, 2, 3, 4, 5, 6, 7, 8];
                    System.Span<int> live = [k, k + 1, k + 2];
                    List<int> list = [k, .. live];
                    lock (_gate) { Changed?.Invoke(data[0] + live[1] + list.Count); }
                    var level = new Level("x", 1) with { Price = 2 };
                    return string.Join(",", "a", "b", level.Name) + string.Concat("d", "e", "f", "g", "h") + k switch { 1 => "one", _ => "many" };
                }
            }
            """;

        Assert.Empty(AssemblyAudit.FindViolations(CompileWithoutTheSandbox(Source)));
    }

    private static byte[] CompileWithoutTheSandbox(string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, StrategyCompiler.Parsing);
        var compilation = CSharpCompilation.Create("AuditProbe", [tree], StrategyCompiler.ReferenceSet, StrategyCompiler.Compiling);
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return image.ToArray();
    }
}
