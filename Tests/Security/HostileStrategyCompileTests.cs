using Backtesting.Compiler;
using static Backtesting.Tests.Custom.StrategySources;

namespace Backtesting.Tests.Security;

/// <summary>
/// Hostile strategies, each refused at compile time by the rule its diagnostic names. The probes are data: add a row
/// for every new attack. (What a strategy does at run time, in the worker's container, is proven elsewhere.)
/// </summary>
public sealed class HostileStrategyCompileTests
{
    /// <summary>Where a probe's code goes in the <see cref="Probe"/> strategy: its OnStart, its class body, before its usings, or after it.</summary>
    public enum At { OnStart, Members, Header, Tail }

    public sealed record Hostile(string Name, At At, string Code, string Rule, string Says)
    {
        public override string ToString() => Name;
    }

    private const string Interop = "System.Runtime.InteropServices";

    public static readonly Hostile[] Probes =
    [
        // The escape that worked: a reserved namespace written so the text check missed it, and the runtime's layout attributes.
        new("namespace @System", At.Tail, "namespace @System.Sneaky { internal sealed class Helper { } }", SandboxRules.ReservedNamespace, "System.Sneaky"),
        new("namespace \\u0053ystem", At.Tail, "namespace \\u0053ystem.Sneaky { internal sealed class Helper { } }", SandboxRules.ReservedNamespace, "System.Sneaky"),
        new("namespace System .Runtime with spaces", At.Tail, "namespace System .Runtime { internal sealed class Helper { } }", SandboxRules.ReservedNamespace, "System.Runtime"),
        new("namespace Microsoft", At.Tail, "namespace Microsoft.Win32 { internal sealed class Helper { } }", SandboxRules.ReservedNamespace, "Microsoft.Win32"),
        new("namespace Backtesting.Engine", At.Tail, "namespace Backtesting.Engine.Strategies { internal sealed class Helper { } }", SandboxRules.ReservedNamespace, "Backtesting.Engine.Strategies"),
        new("namespace in another case", At.Tail, "namespace SYSTEM.Sneaky { internal sealed class Helper { } }", SandboxRules.ReservedNamespace, "SYSTEM.Sneaky"),
        new("a reserved namespace nested in a block", At.Tail, "namespace @System { namespace Runtime { internal sealed class Helper { } } }", SandboxRules.ReservedNamespace, "System.Runtime"),
        new("explicit layout with the real attributes", At.Tail,
            $"namespace Confused {{ [{Interop}.StructLayout({Interop}.LayoutKind.Explicit)] internal struct Overlay {{ [{Interop}.FieldOffset(0)] public object A; [{Interop}.FieldOffset(0)] public string B; }} }}",
            SandboxRules.ForbiddenAttribute, "StructLayoutAttribute"),
        new("field offsets with the real attribute", At.Tail,
            $"namespace Confused {{ internal struct Overlay {{ [{Interop}.FieldOffset(0)] public long A; }} }}",
            SandboxRules.ForbiddenAttribute, "FieldOffsetAttribute"),
        new("self-declared StructLayout lookalike under @System", At.Tail,
            """
            namespace @System.Runtime.InteropServices
            {
                internal enum LayoutKind { Sequential = 0, Explicit = 2 }
                internal sealed class StructLayoutAttribute : Attribute { public StructLayoutAttribute(LayoutKind kind) { } }
                internal sealed class FieldOffsetAttribute : Attribute { public FieldOffsetAttribute(int offset) { } }
            }
            namespace Confused
            {
                [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit)]
                internal sealed class Overlay { [System.Runtime.InteropServices.FieldOffset(8)] public object? A; [System.Runtime.InteropServices.FieldOffset(8)] public Probe? B; }
            }
            """, SandboxRules.ReservedNamespace, "System.Runtime.InteropServices"),
        new("self-declared attribute class in the strategy's own namespace", At.Tail,
            "namespace Mine { internal sealed class MarkAttribute : System.Attribute { } [Mark] internal sealed class Marked { } }",
            SandboxRules.ForbiddenApi, "System.Attribute"),
        new("[@assembly: ...]", At.Header, "[@assembly: System.Reflection.AssemblyMetadata(\"a\", \"b\")]", SandboxRules.ForbiddenConstruct, "assembly and module attributes"),
        new("[assembly: ...]", At.Header, "[assembly: System.Runtime.CompilerServices.TypeForwardedTo(typeof(object))]", SandboxRules.ForbiddenConstruct, "assembly and module attributes"),
        new("[module: ...]", At.Header, "[module: System.Runtime.CompilerServices.SkipLocalsInit]", SandboxRules.ForbiddenConstruct, "assembly and module attributes"),
        new("[@module: ...]", At.Header, "[@module: System.Runtime.CompilerServices.SkipLocalsInit]", SandboxRules.ForbiddenConstruct, "assembly and module attributes"),
        new("module initializer", At.Members, "    [System.Runtime.CompilerServices.ModuleInitializer] internal static void Init() { }", SandboxRules.ForbiddenAttribute, "ModuleInitializerAttribute"),
        new("MethodImpl", At.Members, "    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)] private void Slow() { }", SandboxRules.ForbiddenAttribute, "MethodImplAttribute"),
        new("SkipLocalsInit", At.Members, "    [System.Runtime.CompilerServices.SkipLocalsInit] private void Dirty() { }", SandboxRules.ForbiddenAttribute, "SkipLocalsInitAttribute"),
        new("InlineArray", At.Tail, "[System.Runtime.CompilerServices.InlineArray(4)] internal struct Four { private int _element; }", SandboxRules.ForbiddenAttribute, "InlineArrayAttribute"),
        new("UnsafeAccessor", At.Members, "    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Field, Name = \"_cash\")] private static extern ref double Cash(Strategy s);", SandboxRules.ForbiddenAttribute, "UnsafeAccessorAttribute"),
        new("DllImport", At.Members, $"    [{Interop}.DllImport(\"libc\")] private static extern int getpid();", SandboxRules.ForbiddenConstruct, "P/Invoke"),
        new("LibraryImport", At.Members, $"    [{Interop}.LibraryImport(\"libc\")] private static partial int getpid();", SandboxRules.ForbiddenAttribute, "LibraryImportAttribute"),
        new("extern method", At.Members, "    private static extern void Native();", SandboxRules.ForbiddenConstruct, "extern"),
        new("NativeLibrary", At.OnStart, $"{Interop}.NativeLibrary.Load(\"libc\");", SandboxRules.ForbiddenApi, "native interop"),
        new("Marshal", At.OnStart, $"var p = {Interop}.Marshal.AllocHGlobal(8);", SandboxRules.ForbiddenApi, "native interop"),
        new("GCHandle", At.OnStart, $"var h = {Interop}.GCHandle.Alloc(this);", SandboxRules.ForbiddenApi, "native interop"),
        new("Unsafe.As", At.OnStart, "object o = \"x\"; var p = System.Runtime.CompilerServices.Unsafe.As<Probe>(o);", SandboxRules.ForbiddenApi, "compiler services"),
        new("MemoryMarshal", At.OnStart, $"var r = {Interop}.MemoryMarshal.GetReference(new System.Span<int>(new int[1]));", SandboxRules.ForbiddenApi, "native interop"),
        new("CollectionsMarshal", At.OnStart, $"var s = {Interop}.CollectionsMarshal.AsSpan(new List<int>());", SandboxRules.ForbiddenApi, "native interop"),
        new("RuntimeHelpers", At.OnStart, "var o = System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(null!);", SandboxRules.ForbiddenApi, "compiler services"),
        // Reflection, in every spelling.
        new("typeof", At.OnStart, "var t = typeof(Probe);", SandboxRules.ForbiddenApi, "reflection"),
        new("GetType", At.OnStart, "var t = this.GetType();", SandboxRules.ForbiddenApi, "reflection"),
        new("Type.GetType by string", At.OnStart, "var t = System.Type.GetType(\"System.IO.File\");", SandboxRules.ForbiddenApi, "reflection"),
        new("Activator", At.OnStart, "var o = System.Activator.CreateInstance<Probe>();", SandboxRules.ForbiddenApi, "creating objects by type"),
        new("a delegate's Method", At.OnStart, "System.Action a = OnStart; var m = a.Method;", SandboxRules.ForbiddenApi, "reflection"),
        new("a delegate's DynamicInvoke", At.OnStart, "System.Action a = OnStart; a.DynamicInvoke();", SandboxRules.ForbiddenApi, "dynamic invocation"),
        new("expression trees", At.OnStart, "System.Linq.Expressions.Expression<System.Func<int>> e = () => 1;", SandboxRules.ForbiddenApi, "expression trees"),
        new("Assembly", At.OnStart, "var a = System.Reflection.Assembly.GetExecutingAssembly();", SandboxRules.ForbiddenApi, "reflection"),
        // Files, the network, the environment, processes.
        new("File", At.OnStart, "var s = System.IO.File.ReadAllText(\"/etc/passwd\");", SandboxRules.ForbiddenApi, "file system"),
        new("FileStream", At.OnStart, "using var f = new System.IO.FileStream(\"/output/x\", System.IO.FileMode.Create);", SandboxRules.ForbiddenApi, "file system"),
        new("Directory", At.OnStart, "var d = System.IO.Directory.GetFiles(\"/data\");", SandboxRules.ForbiddenApi, "file system"),
        new("Socket", At.OnStart, "var s = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);", SandboxRules.ForbiddenApi, "network"),
        new("HttpClient", At.OnStart, "using var c = new System.Net.Http.HttpClient();", SandboxRules.ForbiddenApi, "network"),
        new("IPAddress", At.OnStart, "var a = System.Net.IPAddress.Loopback;", SandboxRules.ForbiddenApi, "network"),
        new("Environment variables", At.OnStart, "var v = System.Environment.GetEnvironmentVariable(\"BACKTESTING_DB\");", SandboxRules.ForbiddenApi, "environment"),
        new("Environment.Exit", At.OnStart, "System.Environment.Exit(0);", SandboxRules.ForbiddenApi, "environment"),
        new("AppContext", At.OnStart, "var d = System.AppContext.GetData(\"TRUSTED_PLATFORM_ASSEMBLIES\");", SandboxRules.ForbiddenApi, "application context"),
        new("Process.Start", At.OnStart, "System.Diagnostics.Process.Start(\"/bin/sh\");", SandboxRules.ForbiddenApi, "processes"),
        // Threads and everything that runs code outside the engine's call.
        new("Thread", At.OnStart, "new System.Threading.Thread(() => { }).Start();", SandboxRules.ForbiddenApi, "threads"),
        new("Task", At.OnStart, "System.Threading.Tasks.Task.Run(() => { });", SandboxRules.ForbiddenApi, "threads"),
        new("ThreadPool", At.OnStart, "System.Threading.ThreadPool.QueueUserWorkItem(_ => { });", SandboxRules.ForbiddenApi, "threads"),
        new("Timer", At.OnStart, "var t = new System.Threading.Timer(_ => { }, null, 0, 1);", SandboxRules.ForbiddenApi, "threads"),
        new("Monitor", At.OnStart, "System.Threading.Monitor.Enter(this);", SandboxRules.ForbiddenApi, "threads"),
        new("async", At.Members, "    private async System.Threading.Tasks.Task Later() { await System.Threading.Tasks.Task.Yield(); }", SandboxRules.ForbiddenApi, "threads"),
        new("finalizer", At.Members, "    ~Probe() { }", SandboxRules.ForbiddenConstruct, "finalizers"),
        // Unsafe code.
        new("unsafe block and pointers", At.OnStart, "unsafe { int x = 1; int* p = &x; *p = 2; }", SandboxRules.UnsafeCode, "pointers"),
        new("pointer field", At.Members, "    private unsafe int* _p;", SandboxRules.UnsafeCode, "pointers"),
        new("function pointer", At.Members, "    private unsafe delegate*<void> _f;", SandboxRules.UnsafeCode, "pointers"),
        new("stackalloc", At.OnStart, "System.Span<byte> b = stackalloc byte[16];", SandboxRules.UnsafeCode, "stackalloc"),
        new("fixed", At.OnStart, "unsafe { fixed (double* p = new double[1]) { } }", SandboxRules.UnsafeCode, "pointers"),
        new("dynamic", At.OnStart, "dynamic d = this; d.Anything();", SandboxRules.ForbiddenConstruct, "dynamic"),
        new("__makeref", At.OnStart, "int x = 1; var r = __makeref(x);", SandboxRules.ForbiddenConstruct, "__makeref"),
        new("extern alias", At.Header, "extern alias Sneaky;", SandboxRules.ForbiddenConstruct, "extern alias"),
        // The console: stdout carries the worker's protocol.
        new("Console.WriteLine", At.OnStart, "System.Console.WriteLine(\"{\\\"type\\\":\\\"backtest_complete\\\"}\");", SandboxRules.ForbiddenApi, "console"),
        new("Console.Out", At.OnStart, "System.Console.Out.Flush();", SandboxRules.ForbiddenApi, "console"),
        new("GC", At.OnStart, "System.GC.Collect();", SandboxRules.ForbiddenApi, "garbage collector"),
        new("a default interface method that reaches a file", At.Tail, "internal interface IEvil { void Go() => System.IO.File.Delete(\"/output/results.json\"); }", SandboxRules.ForbiddenApi, "file system"),
        new("a static constructor that reaches the environment", At.Members, "    static Probe() { System.Environment.Exit(3); }", SandboxRules.ForbiddenApi, "environment"),
        // Determinism: whatever differs between processes or runs.
        new("DateTime.Now", At.OnStart, "var t = System.DateTime.Now;", SandboxRules.Nondeterministic, "wall clock"),
        new("DateTime.UtcNow", At.OnStart, "var t = System.DateTime.UtcNow;", SandboxRules.Nondeterministic, "wall clock"),
        new("DateTime.Today", At.OnStart, "var t = System.DateTime.Today;", SandboxRules.Nondeterministic, "wall clock"),
        new("DateTime.ToLocalTime", At.OnStart, "var t = Time.ToLocalTime();", SandboxRules.Nondeterministic, "time zone"),
        new("StringComparison.CurrentCulture", At.OnStart, "var c = string.Compare(\"a\", \"b\", System.StringComparison.CurrentCulture);", SandboxRules.Nondeterministic, "culture"),
        new("CultureInfo.CurrentCulture", At.OnStart, "var c = System.Globalization.CultureInfo.CurrentCulture;", SandboxRules.Nondeterministic, "culture"),
        new("DateTimeOffset.UtcNow", At.OnStart, "var t = System.DateTimeOffset.UtcNow;", SandboxRules.ForbiddenApi, "wall clock"),
        new("TimeProvider", At.OnStart, "var t = System.TimeProvider.System.GetUtcNow();", SandboxRules.ForbiddenApi, "wall clock"),
        new("Stopwatch", At.OnStart, "var t = System.Diagnostics.Stopwatch.GetTimestamp();", SandboxRules.ForbiddenApi, "diagnostics"),
        new("Environment.TickCount", At.OnStart, "var t = System.Environment.TickCount64;", SandboxRules.ForbiddenApi, "environment"),
        new("Guid.NewGuid", At.OnStart, "var g = System.Guid.NewGuid();", SandboxRules.ForbiddenApi, "random"),
        new("Random, seeded or not", At.OnStart, "var r = new System.Random(42).Next();", SandboxRules.ForbiddenApi, "randomness"),
        new("Random.Shared", At.OnStart, "var r = System.Random.Shared.Next();", SandboxRules.ForbiddenApi, "randomness"),
        new("string.GetHashCode", At.OnStart, "var h = \"SPY\".GetHashCode();", SandboxRules.Nondeterministic, "seeded per process"),
        new("object.GetHashCode", At.OnStart, "var h = new object().GetHashCode();", SandboxRules.Nondeterministic, "seeded per process"),
        new("a record's GetHashCode", At.Members, "    private sealed record Key(string Symbol); private int H() => new Key(\"SPY\").GetHashCode();", SandboxRules.Nondeterministic, "seeded per process"),
        new("a tuple's GetHashCode", At.OnStart, "var h = (\"SPY\", 1).GetHashCode();", SandboxRules.Nondeterministic, "seeded per process"),
        new("a comparer's GetHashCode", At.OnStart, "var h = EqualityComparer<string>.Default.GetHashCode(\"SPY\");", SandboxRules.Nondeterministic, "seeded per process"),
        new("StringComparer.GetHashCode", At.OnStart, "var h = System.StringComparer.Ordinal.GetHashCode(\"SPY\");", SandboxRules.Nondeterministic, "seeded per process"),
        new("GetHashCode as a method group", At.OnStart, "System.Func<int> h = \"SPY\".GetHashCode;", SandboxRules.Nondeterministic, "seeded per process"),
        new("HashCode", At.OnStart, "var h = System.HashCode.Combine(1, 2);", SandboxRules.ForbiddenApi, "seeded randomly"),
    ];

    public static TheoryData<string> All()
    {
        var names = new TheoryData<string>();
        foreach (var probe in Probes)
        {
            names.Add(probe.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Every_hostile_probe_is_refused_at_compile_time_by_the_rule_it_breaks(string name)
    {
        var probe = Probes.Single(p => p.Name == name);
        var result = StrategyCompiler.Compile(Place(probe.At, probe.Code));

        Assert.False(result.Ok, $"{probe.Name} compiled");
        Assert.Null(result.Assembly);
        Assert.True(result.Diagnostics.Any(d => d.Id == probe.Rule && d.Message.Contains(probe.Says, StringComparison.Ordinal)),
            $"{probe.Name}: no {probe.Rule} saying '{probe.Says}'; got:\n{string.Join("\n", result.Diagnostics)}");
    }

    /// <summary>Harmless code that looks like a probe: it must still compile (the sandbox refuses by rule, not by suspicion).</summary>
    public static TheoryData<string, At, string> Harmless() => new()
    {
        { "a static constructor", At.Members, "    private static readonly int[] Table; static Probe() { Table = [1, 2, 3]; }" },
        { "a default interface method", At.Tail, "internal interface IScaled { double Scale(double x) => x * 2; }" },
        { "params spans (the compiler's inline arrays)", At.OnStart, "var s = string.Join(\",\", \"a\", \"b\", \"c\") + string.Concat(\"d\", \"e\", \"f\", \"g\", \"h\");" },
        { "a collection expression into a span", At.OnStart, "System.ReadOnlySpan<double> w = [0.1, 0.2, 0.7]; System.Span<int> n = [After, After + 1]; _spins += n.Length + (long)w[0];" },
        { "GetHashCode of numbers and dates", At.OnStart, "var h = 42.GetHashCode() ^ 1.5.GetHashCode() ^ Time.GetHashCode();" },
        { "a namespace of its own that only contains System deeper down", At.Tail, "namespace Mine.System { internal sealed class Helper { } }" },
        { "Obsolete and Flags", At.Tail, "[System.Flags] internal enum Sides { None = 0, Long = 1, Short = 2 } [System.Obsolete(\"old\")] internal sealed class Old { }" },
    };

    [Theory]
    [MemberData(nameof(Harmless))]
    public void Harmless_lookalikes_compile(string name, At at, string code)
    {
        var result = StrategyCompiler.Compile(Place(at, code));

        Assert.True(result.Ok, $"{name}:\n{string.Join("\n", result.Diagnostics)}");
    }

    [Fact]
    public void A_deeply_nested_expression_is_refused_before_the_compiler_runs_out_of_stack()
    {
        const int Depth = 20_000;
        var source = Place(At.OnStart, "var x = " + new string('(', Depth) + "1" + new string(')', Depth) + ";");

        var result = StrategyCompiler.Compile(source);

        Assert.False(result.Ok);
        Assert.Equal(SandboxRules.TooDeep, Assert.Single(result.Diagnostics).Id);
    }

    [Fact]
    public void Compiling_runs_no_strategy_code()
    {
        // A constructor that throws: compiling only reads the source (the worker creates it, under the run's watchdog).
        var result = StrategyCompiler.Compile(Place(At.Members, """
                public Probe() { throw new System.InvalidOperationException("ran at compile time"); }
                [Parameter("from a constant")] public double Level { get; set; } = Limit / 4;
                private const int Limit = 10;
            """));

        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        Assert.Equal(["level", "after"], result.Strategy!.Parameters.Select(p => p.Name));
        Assert.Equal(2.0, result.Strategy.Parameters[0].Default); // int division, then the property's type
        var thrown = Assert.Throws<InvalidOperationException>(() => result.Load().Dispose());
        Assert.Equal("ran at compile time", thrown.Message);
    }

    private static string Place(At at, string code) => at switch
    {
        At.Members => Probe(members: code),
        At.Header => Probe(header: code),
        At.Tail => Probe() + "\n" + code + "\n",
        _ => Probe(inOnStart: "        " + code),
    };
}

/// <summary>A compiler process that dies of a stack overflow is the source's fault: a rejection naming the method.</summary>
public sealed class CompileStackOverflowTests
{
    [Fact]
    public void The_runtimes_stack_overflow_report_names_the_innermost_method()
    {
        const string Stderr = "Stack overflow.\nRepeat 19126 times:\n--------------------------------\n   at Probe.Deeper(Int32)\n--------------------------------\n   at Probe..ctor()\n";

        Assert.Equal("Probe.Deeper(Int32)", StrategyCompiler.OverflowedMethod(Stderr));
        var result = StrategyCompiler.StackOverflow("source", "Probe.Deeper(Int32)");
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((SandboxRules.CompileStackOverflow, false), (error.Id, result.Ok));
        Assert.Contains("overflowed the stack in Probe.Deeper(Int32)", error.Message, StringComparison.Ordinal);
        Assert.Null(StrategyCompiler.OverflowedMethod("compile failed with 1 error(s)"));
        Assert.Equal(201, StrategyCompiler.OverflowedMethod("Stack overflow.\n   at " + new string('x', 500))!.Length);
    }
}
