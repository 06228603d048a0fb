using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Backtesting.Engine.Strategies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;
using Backtesting.Engine.Protocol;

namespace Backtesting.Compiler;

/// <summary>
/// Compiles one custom strategy's C# source in memory: size limit, C# errors, the sandbox's allow-list (on
/// the bound syntax, then again on the emitted metadata), the strategy class's shape, and the parameter
/// schema, derived by the engine's own <see cref="StrategyDescriptor"/> exactly as for the templates.
/// Compilation is deterministic: the same source gives the same assembly bytes.
/// </summary>
/// <remarks>
/// Compiling runs none of the strategy's code: the schema is read from the compiler's symbols (attribute arguments
/// and constant property initializers), and the assembly is only loaded where a run executes it
/// (<see cref="CompileResult.Load"/>). Hosts still compile untrusted source in the worker's sandbox, under a
/// timeout, since the compiler itself is a large attack surface.
/// </remarks>
public static class StrategyCompiler
{
    /// <summary>The largest source accepted, in UTF-8 bytes.</summary>
    public const int MaxSourceBytes = 100_000;

    /// <summary>The file name diagnostics and stack traces give the source.</summary>
    public const string FileName = WorkerFiles.StrategySource;

    private const string StrategyBaseName = "Backtesting.Engine.Strategies.Strategy";
    private const string ParameterAttributeName = "Backtesting.Engine.Strategies.ParameterAttribute";

    private static readonly Lazy<List<MetadataReference>> References = new(LoadReferences);

    /// <summary>The fixed set of framework and engine assemblies a strategy compiles against.</summary>
    internal static IReadOnlyList<MetadataReference> ReferenceSet => References.Value;

    /// <summary>The options every strategy is compiled with (also for tests that compile without the sandbox's checks).</summary>
    internal static CSharpParseOptions Parsing => ParseOptions;

    /// <inheritdoc cref="Parsing"/>
    internal static CSharpCompilationOptions Compiling => CompilationOptions;

    private static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithDocumentationMode(DocumentationMode.None);

    private static readonly CSharpCompilationOptions CompilationOptions = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: OptimizationLevel.Release,
            allowUnsafe: false,
            deterministic: true,
            concurrentBuild: false,
            checkOverflow: false,
            nullableContextOptions: NullableContextOptions.Enable)
        // The references are the runtime's own assemblies, whose versions need no unification warnings.
        .WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]);

    /// <summary>
    /// The stack of the thread that compiles. Roslyn's parser recurses once or more per nesting level before the
    /// nesting rule can look at the tree, so a thread pool thread's stack is overflowed by a few thousand nested
    /// parentheses, and a stack overflow ends the whole process. This is enough for the deepest source within
    /// <see cref="MaxSourceBytes"/> (reserved address space; only what is used is committed).
    /// </summary>
    public const int CompilerStackBytes = 512 << 20;

    /// <summary>Compiles, checks and describes a strategy; never throws for anything wrong with the source.</summary>
    /// <param name="reservedNames">Class names the strategy may not take; the templates' names by default.</param>
    public static CompileResult Compile(string source, IReadOnlyCollection<string>? reservedNames = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        CompileResult? result = null;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = CompileHere(source, reservedNames);
            }
            catch (Exception e)
            {
                failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        }, CompilerStackBytes) { Name = "strategy compiler", IsBackground = true };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result!;
    }

    private static CompileResult CompileHere(string source, IReadOnlyCollection<string>? reservedNames)
    {
        ArgumentNullException.ThrowIfNull(source);
        source = Normalize(source);
        var bytes = Encoding.UTF8.GetBytes(source);
        var sourceHash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (bytes.Length > MaxSourceBytes)
        {
            return Failed(sourceHash, [new CompileDiagnostic(SandboxRules.SourceTooLarge, CompileDiagnostic.Error, 1, 1, 1, 1,
                $"the source is {bytes.Length:N0} bytes; a strategy may have at most {MaxSourceBytes:N0}")]);
        }

        var tree = CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8, SourceHashAlgorithm.Sha256), ParseOptions, FileName);
        if (NestingDepth(tree.GetRoot()) > MaxNesting)
        {
            // Deeper trees make the compiler's own recursive walks run out of stack (and take minutes on the way).
            return Failed(sourceHash, [new CompileDiagnostic(SandboxRules.TooDeep, CompileDiagnostic.Error, 1, 1, 1, 1,
                $"the source nests expressions or statements more than {MaxNesting} levels deep")]);
        }

        var compilation = CSharpCompilation.Create(PrecompiledStrategy.AssemblyNameFor(sourceHash), [tree], References.Value, CompilationOptions);
        var model = compilation.GetSemanticModel(tree);
        var diagnostics = compilation.GetDiagnostics()
            .Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning)
            .Select(FromRoslyn)
            .ToList();
        diagnostics.AddRange(new SandboxChecker(compilation, model).Check(tree.GetRoot()));
        var strategyClass = FindStrategyClass(compilation, model, tree, diagnostics, reservedNames ?? StrategyCatalog.Templates.All.Select(d => d.Name).ToList());
        if (HasErrors(diagnostics) || strategyClass is null)
        {
            return Failed(sourceHash, diagnostics);
        }

        using var image = new MemoryStream();
        var emitted = compilation.Emit(image, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
        if (!emitted.Success)
        {
            diagnostics.AddRange(emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(FromRoslyn));
            return Failed(sourceHash, diagnostics);
        }

        var assembly = image.ToArray();
        var violations = AssemblyAudit.FindViolations(assembly);
        if (violations.Count > 0)
        {
            diagnostics.AddRange(violations.Select(v => new CompileDiagnostic(SandboxRules.AssemblyAudit, CompileDiagnostic.Error, 1, 1, 1, 1,
                "the compiled strategy fails the metadata audit: " + v)));
            return Failed(sourceHash, diagnostics);
        }

        // The schema comes from the compiler's symbols, never from creating the strategy: compiling runs no strategy code.
        var schema = StrategySchemaReader.Read(strategyClass, compilation);

        return new CompileResult(true, sourceHash, Convert.ToHexStringLower(SHA256.HashData(assembly)), schema, Sorted(diagnostics))
        {
            Assembly = assembly,
            CompilerVersion = PrecompiledStrategy.CompilerVersion,
        };
    }

    /// <summary>How deeply the syntax tree may nest; ordinary code stays far below it.</summary>
    public const int MaxNesting = 200;

    /// <summary>The syntax tree's depth, measured without recursion (the point is not to need the stack).</summary>
    private static int NestingDepth(SyntaxNode root)
    {
        var deepest = 0;
        var pending = new Stack<(SyntaxNode Node, int Depth)>();
        pending.Push((root, 1));
        while (pending.Count > 0)
        {
            var (node, depth) = pending.Pop();
            deepest = Math.Max(deepest, depth);
            if (deepest > MaxNesting)
            {
                break;
            }

            foreach (var child in node.ChildNodes())
            {
                pending.Push((child, depth + 1));
            }
        }

        return deepest;
    }

    /// <summary>The source as it is compiled and stored: line endings normalized to \n.</summary>
    public static string Normalize(string source) => source.ReplaceLineEndings("\n");

    /// <summary>The version identity of a source: SHA-256 (hex) of its normalized UTF-8 text.</summary>
    public static string HashSource(string source) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(source))));

    /// <summary>The result to report when compiling did not finish in time (the strategy's constructor did not return).</summary>
    public static CompileResult TimedOut(string source, TimeSpan timeout) => new(false, HashSource(source), null, null,
        [new CompileDiagnostic(SandboxRules.CompileTimedOut, CompileDiagnostic.Error, 1, 1, 1, 1,
            $"compiling did not finish within {timeout.TotalSeconds:0.###} s (compiling runs no strategy code: the source itself is too complex for the compiler)")]);

    /// <summary>The result to report when the compiler overflowed its stack in <paramref name="method"/> (a crash only the host sees).</summary>
    public static CompileResult StackOverflow(string source, string method) => new(false, HashSource(source), null, null,
        [new CompileDiagnostic(SandboxRules.CompileStackOverflow, CompileDiagnostic.Error, 1, 1, 1, 1,
            $"compiling overflowed the stack in {method}: simplify deeply nested expressions or statements")]);

    /// <summary>
    /// The innermost method of the runtime's "Stack overflow." report in a compiler process's stderr, or null when it
    /// did not end with one (at most 200 characters: the report is the process's, not trusted text).
    /// </summary>
    public static string? OverflowedMethod(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.TrimEntries);
        var start = Array.FindIndex(lines, l => l.StartsWith("Stack overflow.", StringComparison.Ordinal));
        if (start < 0)
        {
            return null;
        }

        var frame = lines.Skip(start + 1).FirstOrDefault(l => l.StartsWith("at ", StringComparison.Ordinal))?[3..] ?? "an unknown method";
        return frame.Length <= MaxReportedMethod ? frame : frame[..MaxReportedMethod] + "…";
    }

    private const int MaxReportedMethod = 200;

    private static INamedTypeSymbol? FindStrategyClass(CSharpCompilation compilation, SemanticModel model, SyntaxTree tree,
        List<CompileDiagnostic> diagnostics, IReadOnlyCollection<string> reservedNames)
    {
        var strategyBase = compilation.GetTypeByMetadataName(StrategyBaseName)
            ?? throw new InvalidOperationException("the engine's Strategy class is not among the references");
        var parameterAttribute = compilation.GetTypeByMetadataName(ParameterAttributeName)!;
        var candidates = tree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>()
            .Select(c => model.GetDeclaredSymbol(c))
            .OfType<INamedTypeSymbol>()
            .Distinct<INamedTypeSymbol>(SymbolEqualityComparer.Default)
            .Where(c => c.ContainingType is null && c.DeclaredAccessibility == Accessibility.Public && !c.IsAbstract && DerivesFrom(c, strategyBase))
            .ToList();
        if (candidates.Count == 0)
        {
            diagnostics.Add(new CompileDiagnostic(SandboxRules.StrategyClassCount, CompileDiagnostic.Error, 1, 1, 1, 1,
                "no strategy class: declare exactly one public, non-abstract class deriving from Strategy (e.g. public sealed class MyStrategy : Strategy)"));
            return null;
        }

        if (candidates.Count > 1)
        {
            foreach (var extra in candidates.Skip(1))
            {
                diagnostics.Add(ToDiagnostic(SandboxRules.StrategyClassCount, CompileDiagnostic.Error, extra.Locations[0].GetLineSpan(),
                    $"a source holds exactly one public strategy class; found {string.Join(", ", candidates.Select(c => c.Name))} (make the others internal or abstract)"));
            }

            return null;
        }

        var strategy = candidates[0];
        var at = strategy.Locations[0].GetLineSpan();
        var before = diagnostics.Count;
        if (strategy.IsGenericType)
        {
            diagnostics.Add(ToDiagnostic(SandboxRules.StrategyClassShape, CompileDiagnostic.Error, at, $"the strategy class {strategy.Name} may not be generic"));
        }

        if (!strategy.InstanceConstructors.Any(c => c.Parameters.Length == 0 && c.DeclaredAccessibility == Accessibility.Public))
        {
            diagnostics.Add(ToDiagnostic(SandboxRules.StrategyClassShape, CompileDiagnostic.Error, at,
                $"the strategy class {strategy.Name} needs a public parameterless constructor (parameters are properties, set after construction)"));
        }

        if (reservedNames.Contains(strategy.Name))
        {
            diagnostics.Add(ToDiagnostic(SandboxRules.StrategyClassShape, CompileDiagnostic.Error, at,
                $"'{strategy.Name}' is the name of a template; give the custom strategy another class name"));
        }

        for (var type = strategy; type is not null && SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, compilation.Assembly); type = type.BaseType)
        {
            foreach (var property in type.GetMembers().OfType<IPropertySymbol>())
            {
                if (property.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, parameterAttribute)))
                {
                    CheckParameter(property, diagnostics);
                    if (StrategySchemaReader.ClrType(property.Type) is not null && StrategySchemaReader.DefaultProblem(property, compilation) is { } problem)
                    {
                        diagnostics.Add(ToDiagnostic(SandboxRules.ParameterShape, CompileDiagnostic.Error, property.Locations[0].GetLineSpan(), problem));
                    }
                }
            }
        }

        return diagnostics.Count == before ? strategy : null;
    }

    private static void CheckParameter(IPropertySymbol property, List<CompileDiagnostic> diagnostics)
    {
        var at = property.Locations[0].GetLineSpan();
        if (property.DeclaredAccessibility != Accessibility.Public || property.IsStatic
            || property.GetMethod?.DeclaredAccessibility != Accessibility.Public
            || property.SetMethod is not { DeclaredAccessibility: Accessibility.Public })
        {
            diagnostics.Add(ToDiagnostic(SandboxRules.ParameterShape, CompileDiagnostic.Error, at,
                $"parameter {property.Name} must be a public instance property with a public get and set"));
        }

        if (StrategySchemaReader.ClrType(property.Type) is null)
        {
            diagnostics.Add(ToDiagnostic(SandboxRules.ParameterShape, CompileDiagnostic.Error, at,
                $"parameter {property.Name} is {property.Type.ToDisplayString()}; parameters must be int, long, double, decimal, bool or string"));
        }
    }

    private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol baseType)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, baseType))
            {
                return true;
            }
        }

        return false;
    }

    // The framework assemblies a strategy compiles against: those of the allowed API, plus those of the APIs the
    // sandbox names when it rejects them (files, sockets, processes, emit, threads, ...), so a forbidden call binds
    // and is reported by name rather than as unknown. A fixed set, so every host (the worker, a container, a test)
    // compiles against the same references and emits the same bytes on the same runtime. The allow-list, not this
    // set, decides what may be used.
    private static readonly string[] FrameworkAssemblies =
    [
        "System.Private.CoreLib", "System.Runtime", "System.Collections", "System.Collections.Concurrent", "System.Console",
        "System.ComponentModel.Primitives", "System.Diagnostics.Process", "System.Linq", "System.Linq.Expressions",
        "System.Linq.Parallel", "System.Memory", "System.Net.Http", "System.Net.Primitives", "System.Net.Sockets",
        "System.Reflection.Emit", "System.Reflection.Emit.ILGeneration", "System.Reflection.Emit.Lightweight",
        "System.Reflection.Primitives", "System.Runtime.InteropServices", "System.Runtime.Loader", "System.Threading",
        "System.Threading.Thread", "System.Threading.ThreadPool",
    ];

    private static List<MetadataReference> LoadReferences()
    {
        // A host may list a name twice (a test host does); the runtime's own folder wins, as it does when loading.
        var runtimeFolder = Path.GetDirectoryName(typeof(object).Assembly.Location);
        var trusted = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .GroupBy(path => Path.GetFileNameWithoutExtension(path), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.FirstOrDefault(path => Path.GetDirectoryName(path) == runtimeFolder) ?? g.First(), StringComparer.Ordinal);
        var engine = typeof(Strategy).Assembly.Location;
        if (string.IsNullOrEmpty(engine))
        {
            throw new InvalidOperationException("the engine assembly has no file location (single-file publishing is not supported by the strategy compiler)");
        }

        return FrameworkAssemblies
            .Select(name => trusted.TryGetValue(name, out var path) ? path
                : name == "System.Private.CoreLib" ? typeof(object).Assembly.Location
                : null)
            .OfType<string>()
            .Append(engine)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList();
    }

    private static CompileResult Failed(string sourceHash, List<CompileDiagnostic> diagnostics) =>
        new(false, sourceHash, null, null, Sorted(diagnostics));

    private static List<CompileDiagnostic> Sorted(List<CompileDiagnostic> diagnostics) =>
        diagnostics.OrderBy(d => d.Severity == CompileDiagnostic.Error ? 0 : 1).ThenBy(d => d.Line).ThenBy(d => d.Column).Take(200).ToList();

    private static bool HasErrors(List<CompileDiagnostic> diagnostics) => diagnostics.Any(d => d.Severity == CompileDiagnostic.Error);

    private static CompileDiagnostic FromRoslyn(Diagnostic diagnostic) => ToDiagnostic(
        diagnostic.Id,
        diagnostic.Severity == DiagnosticSeverity.Error ? CompileDiagnostic.Error : CompileDiagnostic.Warning,
        diagnostic.Location.GetLineSpan(),
        diagnostic.GetMessage(CultureInfo.InvariantCulture));

    internal static CompileDiagnostic ToDiagnostic(string id, string severity, FileLinePositionSpan span, string message) => new(
        id, severity,
        span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1,
        span.EndLinePosition.Line + 1, span.EndLinePosition.Character + 1,
        message);
}
