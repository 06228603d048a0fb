using System.Reflection;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using System.Runtime.Loader;
using Backtesting.Engine.Strategies;

namespace Backtesting.Compiler;

/// <summary>
/// A compiled custom strategy loaded into a collectible <see cref="AssemblyLoadContext"/> of its own. The engine
/// is shared with the host (the context resolves nothing itself), so the class derives from the host's
/// <see cref="Strategy"/>. Dispose unloads the context once nothing references its types any more.
/// </summary>
public sealed class LoadedStrategy : IDisposable
{
    private readonly StrategyLoadContext _context;

    private LoadedStrategy(StrategyLoadContext context, StrategyDescriptor descriptor)
    {
        _context = context;
        Descriptor = descriptor;
    }

    /// <summary>The strategy's descriptor, derived from its attributes exactly as the templates' are.</summary>
    public StrategyDescriptor Descriptor { get; }

    /// <summary>A weak reference to the load context, to observe that unloading finished (tests, diagnostics).</summary>
    public WeakReference ContextReference => new(_context);

    /// <summary>The templates plus this strategy: what a run that names it validates and executes against.</summary>
    public StrategyCatalog WithTemplates() => StrategyCatalog.Templates.With([Descriptor]);

    /// <summary>
    /// Loads the image and creates the strategy once (its descriptor reads the defaults from a live instance). Call
    /// this only where untrusted code may run: in the worker, under the run's watchdog. When the instance's defaults
    /// differ from the <paramref name="expected"/> schema compiling read from the source (a constructor that
    /// assigns a parameter), it throws: the schema users see is the one the run uses.
    /// </summary>
    internal static LoadedStrategy Load(byte[] image, string className, string sourceHash, StrategySchema expected)
    {
        var context = new StrategyLoadContext($"strategy {className} {sourceHash[..12]}");
        try
        {
            using var stream = new MemoryStream(image, writable: false);
            var assembly = context.LoadFromStream(stream);
            var type = assembly.GetExportedTypes().Single(t => !t.IsNested && !t.IsAbstract && t.IsSubclassOf(typeof(Strategy)) && t.Name == className);
            var info = type.GetCustomAttribute<StrategyInfoAttribute>();
            var descriptor = StrategyDescriptor.For(type.Name, info?.Description ?? StrategySchemaReader.DefaultDescription, () => Create(type),
                info?.MaxInstruments ?? StrategySchemaReader.DefaultMaxInstruments, sourceHash);
            foreach (var (compiled, live) in expected.Parameters.Zip(descriptor.Parameters))
            {
                if (!SameDefault(compiled.Default, live.Default))
                {
                    throw new InvalidOperationException(
                        $"creating {className} changed the default of {compiled.Name} from {compiled.Default ?? "null"} to {live.Default ?? "null"}: " +
                        "a parameter's default is its property initializer; do not assign parameters in the constructor");
                }
            }

            return new LoadedStrategy(context, descriptor);
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    /// <summary>
    /// Whether two defaults are the same value: compared as JSON, since a schema read back from JSON (a precompiled
    /// strategy's compile.json) holds its defaults as JSON elements where the compiler's own holds CLR values.
    /// </summary>
    private static bool SameDefault(object? compiled, object? live) =>
        Equals(compiled, live)
        || JsonSerializer.Serialize(compiled, JsonDefaults.Options) == JsonSerializer.Serialize(live, JsonDefaults.Options);

        private static Strategy Create(Type type)
    {
        try
        {
            return (Strategy)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // The strategy's own constructor or initializer failed: report its exception, not reflection's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    public void Dispose() => _context.Unload();

    private sealed class StrategyLoadContext(string name) : AssemblyLoadContext(name, isCollectible: true)
    {
        // Everything the strategy references (the engine, the framework) comes from the default context.
        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }
}
