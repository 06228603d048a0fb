using System.Runtime.CompilerServices;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Strategies;
using static Backtesting.Tests.Custom.StrategySources;

namespace Backtesting.Tests.Custom;

/// <summary>The real Roslyn compiler and the sandbox's rules, in this process.</summary>
public sealed class StrategyCompilerTests
{
    [Fact]
    public void The_example_compiles_to_the_templates_schema()
    {
        var result = StrategyCompiler.Compile(SmaCross);

        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        Assert.True(StrategyCatalog.Templates.TryGet("MovingAverageCross", out var template));
        var schema = result.Strategy!;
        Assert.Equal("SmaCross", schema.Name);
        Assert.Equal(template.Description, schema.Description);
        Assert.Equal(template.MaxInstruments, schema.MaxInstruments);
        // The same schema: same names, types, defaults, bounds, descriptions and allowed values, in the same order.
        Assert.Equal(JsonSerializer.Serialize(template.Parameters, JsonDefaults.Options), JsonSerializer.Serialize(schema.Parameters, JsonDefaults.Options));
    }

    [Fact]
    public void The_documented_example_compiles()
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "custom-strategies.md"));
        var start = doc.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        var source = doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];

        var result = StrategyCompiler.Compile(source);

        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        Assert.Equal(("MyRsi", 10), (result.Strategy!.Name, result.Strategy.MaxInstruments));
        Assert.Equal(["period", "oversold", "overbought"], result.Strategy.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Compilation_is_deterministic_and_the_hash_ignores_line_endings()
    {
        var first = StrategyCompiler.Compile(SmaCross);
        var second = StrategyCompiler.Compile(SmaCross);
        var windows = StrategyCompiler.Compile(SmaCross.ReplaceLineEndings("\r\n"));
        var changed = StrategyCompiler.Compile(SmaCross.Replace("= 10;", "= 12;", StringComparison.Ordinal));

        Assert.Equal(first.Assembly, second.Assembly);
        Assert.Equal(first.AssemblyHash, second.AssemblyHash);
        Assert.Equal(first.SourceHash, windows.SourceHash);
        Assert.Equal(first.Assembly, windows.Assembly);
        Assert.Equal(StrategyCompiler.HashSource(SmaCross), first.SourceHash);
        Assert.True(changed.Ok);
        Assert.NotEqual(first.SourceHash, changed.SourceHash);
        Assert.NotEqual(first.AssemblyHash, changed.AssemblyHash);
        Assert.Equal(12, Assert.IsType<int>(changed.Strategy!.Parameters[0].Default));
    }

    [Fact]
    public void A_compile_error_is_reported_at_its_line_and_column()
    {
        var source = Probe(inOnStart: "        var total = missingName + 1; " + Marker);

        var result = StrategyCompiler.Compile(source);

        Assert.False(result.Ok);
        Assert.Null(result.Strategy);
        Assert.Null(result.Assembly);
        var error = Assert.Single(result.Diagnostics, d => d.Severity == CompileDiagnostic.Error);
        Assert.Equal("CS0103", error.Id);
        Assert.Equal(MarkedLine(source), error.Line);
        Assert.Equal(MarkedColumn(source, "missingName"), error.Column);
        Assert.Contains("missingName", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> ForbiddenInOnStart => new()
    {
        { "var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);", "System.Net.Sockets.Socket", "network access" },
        { "using var client = new System.Net.Http.HttpClient();", "System.Net.Http.HttpClient", "network access" },
        { "var secret = System.IO.File.ReadAllText(\"/etc/passwd\");", "System.IO.File", "file system" },
        { "using var stream = new System.IO.FileStream(\"/etc/passwd\", System.IO.FileMode.Open);", "System.IO.FileStream", "file system" },
        { "System.Diagnostics.Process.Start(\"/bin/sh\", \"-c id\");", "System.Diagnostics.Process", "processes" },
        { "var builder = System.Reflection.Emit.AssemblyBuilder.DefineDynamicAssembly(new System.Reflection.AssemblyName(\"x\"), System.Reflection.Emit.AssemblyBuilderAccess.Run);", "System.Reflection.Emit.AssemblyBuilder", "reflection" },
        { "var assembly = typeof(Strategy).Assembly;", "typeof", "reflection" },
        { "var type = this.GetType();", "GetType", "reflection" },
        { "System.Environment.Exit(1);", "System.Environment", "environment" },
        { "new System.Threading.Thread(() => { }).Start();", "System.Threading.Thread", "threads" },
        { "System.Threading.Tasks.Task.Run(() => { });", "System.Threading.Tasks.Task", "threads" },
        { "System.GC.Collect();", "System.GC", "garbage collector" },
        { "var made = System.Activator.CreateInstance<Probe>();", "System.Activator", "creating objects by type" },
        { "System.Console.WriteLine(\"hello\");", "System.Console", "console" },
        { "var memory = System.Runtime.InteropServices.Marshal.AllocHGlobal(100);", "System.Runtime.InteropServices.Marshal", "native interop" },
        { "System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromAssemblyPath(\"/tmp/x.dll\");", "System.Runtime.Loader.AssemblyLoadContext", "loading assemblies" },
        { "System.AppDomain.CurrentDomain.ToString();", "System.AppDomain", "application domains" },
        { "var now = System.DateTime.Now;", "System.DateTime.Now", "wall clock" },
        { "var dice = new System.Random(42).Next();", "System.Random", "randomness" },
        { "var ints = new List<System.IO.FileInfo>();", "System.IO.FileInfo", "file system" },
        { "System.Func<int> f = () => 1; var m = f.Method;", "System.Reflection.MethodInfo", "reflection" },
        { "System.Linq.Expressions.Expression<System.Func<int>> e = () => 1;", "System.Linq.Expressions", "expression trees" },
        { "var parallel = System.Linq.ParallelEnumerable.AsParallel(new[] { 1, 2 });", "System.Linq.ParallelEnumerable", "parallel" },
    };

    [Theory]
    [MemberData(nameof(ForbiddenInOnStart))]
    public void Forbidden_apis_are_rejected_at_their_line(string code, string named, string reason)
    {
        var source = Probe(inOnStart: "        " + code + " " + Marker);

        var result = StrategyCompiler.Compile(source);

        AssertRejectedAt(result, source, "BT01", named, reason);
    }

    public static TheoryData<string, string, string, string, string> ForbiddenConstructs => new()
    {
        // where: members, header or onStart; then the code, the expected id, a word of the name and of the reason.
        { "members", "    [System.Runtime.InteropServices.DllImport(\"libc\")] private static extern int getpid(); " + Marker, SandboxRules.ForbiddenConstruct, "extern", "P/Invoke" },
        { "members", "    ~Probe() { } " + Marker, SandboxRules.ForbiddenConstruct, "finalizer", "outside the backtest" },
        { "members", "    public unsafe void Poke() { } " + Marker, SandboxRules.UnsafeCode, "unsafe", "pointers" },
        { "onStart", "        unsafe { int x = 1; int* p = &x; } " + Marker, SandboxRules.UnsafeCode, "unsafe", "pointers" },
        { "onStart", "        System.Span<int> s = stackalloc int[10]; " + Marker, SandboxRules.UnsafeCode, "stackalloc", "array" },
        { "onStart", "        dynamic d = 1; " + Marker, SandboxRules.ForbiddenConstruct, "dynamic", "dynamic" },
        { "header", "[assembly: System.Runtime.CompilerServices.TypeForwardedTo(typeof(object))] " + Marker, SandboxRules.ForbiddenConstruct, "assembly", "type forwarding" },
        { "header", "using System.IO; " + Marker, SandboxRules.ForbiddenApi, "System.IO", "file system" },
        { "header", "using static System.IO.File; " + Marker, SandboxRules.ForbiddenApi, "System.IO.File", "file system" },
        { "header", "namespace System.Sneaky; " + Marker, SandboxRules.ReservedNamespace, "System.Sneaky", "reserved" },
    };

    [Theory]
    [MemberData(nameof(ForbiddenConstructs))]
    public void Forbidden_constructs_are_rejected_at_their_line(string where, string code, string id, string named, string reason)
    {
        var source = where switch
        {
            "members" => Probe(members: code),
            "header" => Probe(header: code),
            _ => Probe(inOnStart: code),
        };

        var result = StrategyCompiler.Compile(source);

        AssertRejectedAt(result, source, id, named, reason);
    }

    [Fact]
    public void An_alias_does_not_hide_a_forbidden_type()
    {
        var source = Probe(header: "using Sneaky = System.IO.File;", inOnStart: "        Sneaky.Delete(\"/tmp/x\"); " + Marker);

        var result = StrategyCompiler.Compile(source);

        AssertRejectedAt(result, source, SandboxRules.ForbiddenApi, "System.IO.File", "file system");
        Assert.Contains(result.Diagnostics, d => d.Line == 1 && d.Id == SandboxRules.ForbiddenApi); // the alias itself
    }

    [Fact]
    public void The_strategy_class_rules_are_enforced()
    {
        var none = StrategyCompiler.Compile("public sealed class Helper { }");
        Assert.Contains(none.Diagnostics, d => d.Id == SandboxRules.StrategyClassCount && d.Message.Contains("no strategy class", StringComparison.Ordinal));

        var two = StrategyCompiler.Compile(Probe() + "\npublic sealed class Second : Strategy { }");
        Assert.Contains(two.Diagnostics, d => d.Id == SandboxRules.StrategyClassCount && d.Message.Contains("Probe, Second", StringComparison.Ordinal));

        var template = StrategyCompiler.Compile(Probe().Replace("class Probe", "class BuyAndHold", StringComparison.Ordinal));
        Assert.Contains(template.Diagnostics, d => d.Id == SandboxRules.StrategyClassShape && d.Message.Contains("template", StringComparison.Ordinal));

        var constructor = StrategyCompiler.Compile(Probe(members: "    public Probe(int x) { }"));
        Assert.Contains(constructor.Diagnostics, d => d.Id == SandboxRules.StrategyClassShape && d.Message.Contains("parameterless", StringComparison.Ordinal));

        var parameter = Probe(members: "    [Parameter(\"a list\")] public List<int> Levels { get; set; } = new(); " + Marker);
        var badParameter = StrategyCompiler.Compile(parameter);
        var error = Assert.Single(badParameter.Diagnostics, d => d.Id == SandboxRules.ParameterShape);
        Assert.Equal(MarkedLine(parameter), error.Line);
        Assert.Contains("int, long, double, decimal, bool or string", error.Message, StringComparison.Ordinal);

        var computed = Probe(members: "    [Parameter(\"computed\")] public int Computed { get; set; } = System.Math.Max(1, 2); " + Marker);
        var computedDefault = StrategyCompiler.Compile(computed);
        var notConstant = Assert.Single(computedDefault.Diagnostics, d => d.Id == SandboxRules.ParameterShape);
        Assert.Equal(MarkedLine(computed), notConstant.Line);
        Assert.Contains("must be a constant", notConstant.Message, StringComparison.Ordinal);

        var backed = StrategyCompiler.Compile(Probe(members: "    private int _x = 3; [Parameter(\"backed\")] public int Backed { get => _x; set => _x = value; }"));
        Assert.Contains(backed.Diagnostics, d => d.Id == SandboxRules.ParameterShape && d.Message.Contains("auto-property", StringComparison.Ordinal));
        Assert.All([none, two, template, constructor, badParameter, computedDefault, backed], r => Assert.False(r.Ok));
    }

    [Fact]
    public void A_constructor_that_changes_a_default_fails_when_the_run_creates_it()
    {
        // Compiling reads the default (5) from the initializer; the run would get 7, so loading refuses it.
        var compiled = StrategyCompiler.Compile(Probe(members: "    public Probe() { After = 7; }"));
        Assert.True(compiled.Ok, string.Join("\n", compiled.Diagnostics));
        Assert.Equal(5, compiled.Strategy!.Parameters.Single().Default);

        var thrown = Assert.Throws<InvalidOperationException>(() => compiled.Load().Dispose());
        Assert.Contains("changed the default of after from 5 to 7", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_source_is_rejected_before_compiling()
    {
        var source = Probe(members: "    // " + new string('x', StrategyCompiler.MaxSourceBytes));

        var result = StrategyCompiler.Compile(source);

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(SandboxRules.SourceTooLarge, error.Id);
        Assert.Contains("at most 100,000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ordinary_language_features_pass_the_sandbox_and_its_metadata_audit()
    {
        // Iterators, LINQ, records, tuples, lambdas, lock, switch expressions, collection expressions, string
        // interpolation, nullable values and dictionaries: the compiler emits helper calls for several of them.
        var source = Probe(members: """
                private readonly object _gate = new();
                private readonly Dictionary<string, (double Low, double High)> _ranges = new();
                private sealed record Level(string Name, double Price);
                private IEnumerable<int> Evens(int n) { for (var i = 0; i < n; i += 2) yield return i; }
                private static string Describe(int n) => n switch { 0 => "none", 1 => "one", _ => $"{n:N0} items" };
                private event System.Action<int>? Crossed;
            """, inOnStart: """
                Crossed += n => _spins += n;
                Crossed?.Invoke(2);
                var window = new[] { 1.0, 2.0, 3.0, 4.0 }[1..^1];
                List<int> numbers = [1, 2, 3];
                int[] more = [4, 5, .. numbers];
                var total = System.Linq.Enumerable.Sum(Evens(10)) + more.Length;
                lock (_gate) { _ranges["a"] = (1.5, System.Math.Max(2.5, total)); }
                var level = new Level("x", 1) with { Price = 2 };
                double? maybe = level.Price > 1 ? level.Price : null;
                var text = new System.Text.StringBuilder().Append(Describe(total)).Append(maybe ?? 0).ToString();
                var day = new System.DateTime(2020, 1, 2).AddDays(1).DayOfWeek;
                _ = text.Length + (int)day + (level == new Level("x", 2) ? 1 : 0);
            """);

        var result = StrategyCompiler.Compile(source);

        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void A_loaded_strategy_runs_from_its_own_context_and_unloads()
    {
        var compiled = StrategyCompiler.Compile(SmaCross);
        var context = LoadCreateAndDispose(compiled);

        for (var i = 0; i < 100 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(context.IsAlive, "the strategy's load context was not collected after Dispose");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference LoadCreateAndDispose(CompileResult compiled)
    {
        using var loaded = compiled.Load();
        var config = new Dictionary<string, JsonElement> { ["fastPeriod"] = JsonSerializer.SerializeToElement(5) };
        var strategy = loaded.Descriptor.Create(config);
        Assert.Equal("SmaCross", strategy.GetType().Name);
        Assert.NotSame(typeof(Strategy).Assembly, strategy.GetType().Assembly);
        Assert.Equal(compiled.SourceHash, loaded.Descriptor.SourceHash);
        Assert.True(loaded.WithTemplates().TryGet("SmaCross", out _));
        return loaded.ContextReference;
    }

    [Fact]
    public void A_schema_only_descriptor_validates_like_the_template()
    {
        var compiled = StrategyCompiler.Compile(SmaCross);
        var catalog = StrategyCatalog.Templates.With([compiled.Strategy!.ToDescriptor(compiled.SourceHash)]);
        var data = new LeanDataProvider(TestPaths.LeanData);
        const string Config = """
            {"strategyClass":"NAME","strategyConfig":{"fastPeriod":0,"slowPeriod":"30","maType":"WMA","extra":1},
             "startDate":"2015-01-01","endDate":"2015-12-31","instruments":["SPY"],"initialBalance":100000}
            """;

        IReadOnlyList<ValidationError> Errors(string name) =>
            ConfigValidator.Validate(ConfigValidator.Parse(Config.Replace("NAME", name, StringComparison.Ordinal)).Config!, data, catalog,
                ValidationPolicy.Service, new DateOnly(2026, 1, 1)).Errors;

        var custom = Errors("SmaCross");
        var template = Errors("MovingAverageCross");

        Assert.Equal(4, custom.Count);
        Assert.Equal(template.Select(e => (e.Field, e.Rule)), custom.Select(e => (e.Field, e.Rule)));
        Assert.Equal(template.Select(e => e.Message.Replace("MovingAverageCross", "SmaCross", StringComparison.Ordinal)), custom.Select(e => e.Message));
        Assert.False(catalog.All.Single(d => d.Name == "SmaCross").CanCreate);
    }

    private static void AssertRejectedAt(CompileResult result, string source, string idPrefix, string named, string reason)
    {
        Assert.False(result.Ok);
        Assert.Null(result.Assembly);
        var line = MarkedLine(source);
        var atLine = result.Diagnostics.Where(d => d.Line == line && d.Id.StartsWith(idPrefix, StringComparison.Ordinal)).ToList();
        Assert.True(atLine.Count > 0, $"no {idPrefix} diagnostic at line {line}; got:\n{string.Join("\n", result.Diagnostics)}");
        Assert.Contains(atLine, d => d.Message.Contains(named, StringComparison.Ordinal) && d.Message.Contains(reason, StringComparison.Ordinal));
    }
}
