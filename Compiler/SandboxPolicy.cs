namespace Backtesting.Compiler;

/// <summary>
/// The allow-list: the only framework and engine types a custom strategy may use. Anything else (files,
/// network, processes, reflection, interop, threads, tasks, the environment, the garbage collector, the
/// console, randomness) is rejected at the line that uses it. Types the strategy declares itself are always
/// allowed; generic arguments, array elements and tuple elements are checked too.
/// </summary>
public static class SandboxPolicy
{
    /// <summary>Namespaces whose every type is allowed.</summary>
    public static readonly IReadOnlySet<string> AllowedNamespaces = new HashSet<string>(StringComparer.Ordinal)
    {
        "System.Collections.Generic",
        "Backtesting.Engine.Indicators",
        "Backtesting.Engine.Orders",
    };

    /// <summary>Single allowed types, by metadata name (generic arity after a backtick).</summary>
    public static readonly IReadOnlySet<string> AllowedTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        // Values and text.
        "System.Object", "System.Void", "System.ValueType", "System.Enum", "System.String", "System.Boolean", "System.Char",
        "System.SByte", "System.Byte", "System.Int16", "System.UInt16", "System.Int32", "System.UInt32", "System.Int64",
        "System.UInt64", "System.Single", "System.Double", "System.Decimal", "System.Nullable`1",
        "System.Math", "System.MathF", "System.MidpointRounding", "System.Convert", "System.HashCode",
        "System.IComparable", "System.IComparable`1", "System.IEquatable`1", "System.IFormattable", "System.IFormatProvider",
        "System.IDisposable", "System.StringComparison", "System.StringComparer", "System.StringSplitOptions",
        "System.Index", "System.Range", "System.Array", "System.Span`1", "System.ReadOnlySpan`1",
        "System.Text.StringBuilder", "System.Globalization.CultureInfo", "System.Globalization.NumberStyles",
        // Time (of the data, never the clock: DateTime.Now and friends are rejected as members below).
        "System.DateTime", "System.DateTimeKind", "System.DateOnly", "System.TimeOnly", "System.TimeSpan", "System.DayOfWeek",
        // Tuples and delegates.
        "System.ValueTuple", "System.ValueTuple`1", "System.ValueTuple`2", "System.ValueTuple`3", "System.ValueTuple`4",
        "System.ValueTuple`5", "System.ValueTuple`6", "System.ValueTuple`7", "System.ValueTuple`8",
        "System.Tuple`1", "System.Tuple`2", "System.Tuple`3", "System.Tuple`4",
        "System.Action", "System.Action`1", "System.Action`2", "System.Action`3", "System.Action`4",
        "System.Func`1", "System.Func`2", "System.Func`3", "System.Func`4", "System.Func`5",
        "System.Predicate`1", "System.Comparison`1", "System.Converter`2",
        // Exceptions a strategy may throw or catch.
        "System.Exception", "System.ArgumentException", "System.ArgumentNullException", "System.ArgumentOutOfRangeException",
        "System.InvalidOperationException", "System.NotSupportedException", "System.NotImplementedException",
        "System.DivideByZeroException", "System.OverflowException", "System.IndexOutOfRangeException",
        "System.FormatException",
        // LINQ to objects (not Parallel LINQ, not expression trees).
        "System.Linq.Enumerable", "System.Linq.IGrouping`2", "System.Linq.ILookup`2", "System.Linq.IOrderedEnumerable`1",
        "System.Linq.Lookup`2", "System.Collections.IEnumerable", "System.Collections.IEnumerator",
        // The engine's strategy API.
        "Backtesting.Engine.Strategies.Strategy", "Backtesting.Engine.Strategies.ParameterAttribute",
        "Backtesting.Engine.Strategies.StrategyInfoAttribute", "Backtesting.Engine.Strategies.ValidationError",
        "Backtesting.Engine.Data.MarketData", "Backtesting.Engine.Data.MarketDataKind", "Backtesting.Engine.Data.Instrument",
        "Backtesting.Engine.Data.AssetClass", "Backtesting.Engine.Data.Resolution", "Backtesting.Engine.Data.DataType",
        "Backtesting.Engine.Portfolio.Position", "Backtesting.Engine.Portfolio.AccountType",
    };

    /// <summary>Members of allowed types that are still off limits: the wall clock (a backtest must be repeatable).</summary>
    public static readonly IReadOnlyDictionary<string, string> DeniedMembers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["System.DateTime.Now"] = "the wall clock makes a backtest unrepeatable; use Time (the current bar's time)",
        ["System.DateTime.UtcNow"] = "the wall clock makes a backtest unrepeatable; use Time (the current bar's time)",
        ["System.DateTime.Today"] = "the wall clock makes a backtest unrepeatable; use Time (the current bar's time)",
        ["System.Object.GetType"] = "reflection is not allowed",
    };

    /// <summary>Why a namespace is off limits, for the message: the first matching prefix (specific ones first).</summary>
    private static readonly (string Prefix, string Reason)[] Reasons =
    [
        ("System.IO", "file system access is not allowed"),
        ("System.Net", "network access is not allowed"),
        ("System.Diagnostics", "processes and diagnostics are not allowed"),
        ("System.Reflection", "reflection is not allowed"),
        ("System.Runtime.InteropServices", "native interop is not allowed"),
        ("System.Runtime.Loader", "loading assemblies is not allowed"),
        ("System.Runtime.CompilerServices", "compiler services are not allowed"),
        ("System.Runtime", "runtime services are not allowed"),
        ("System.Threading", "threads, tasks and timers are not allowed"),
        ("System.Linq.Expressions", "expression trees are not allowed"),
        ("System.Security", "security APIs are not allowed"),
        ("Microsoft", "Microsoft.* APIs are not allowed"),
        ("Backtesting", "only the engine's strategy API (strategies, indicators, orders, data points, positions) is allowed"),
    ];

    private static readonly Dictionary<string, string> TypeReasons = new(StringComparer.Ordinal)
    {
        ["System.Environment"] = "the environment is not allowed",
        ["System.AppDomain"] = "application domains are not allowed",
        ["System.AppContext"] = "the application context is not allowed",
        ["System.GC"] = "the garbage collector is not allowed",
        ["System.Activator"] = "creating objects by type is not allowed",
        ["System.Type"] = "reflection is not allowed",
        ["System.Console"] = "the console is not allowed (stdout carries the worker's protocol)",
        ["System.Random"] = "randomness makes a backtest unrepeatable",
        ["System.Delegate"] = "dynamic invocation is not allowed",
        ["System.MulticastDelegate"] = "dynamic invocation is not allowed",
        ["System.Linq.ParallelEnumerable"] = "parallel LINQ is not allowed",
    };

    /// <summary>True when the (non-source) type is on the allow-list.</summary>
    public static bool IsAllowedType(string ns, string metadataName) =>
        AllowedNamespaces.Contains(ns) || AllowedTypes.Contains(ns.Length == 0 ? metadataName : ns + "." + metadataName);

    /// <summary>The sentence that says why a type is rejected.</summary>
    public static string ReasonFor(string ns, string fullName)
    {
        if (TypeReasons.TryGetValue(fullName, out var reason))
        {
            return reason;
        }

        foreach (var (prefix, why) in Reasons)
        {
            if (ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal))
            {
                return why;
            }
        }

        return "it is not on the allow-list of a custom strategy";
    }

    /// <summary>True when a using directive may name this namespace: it holds at least one allowed type.</summary>
    public static bool IsAllowedNamespace(string ns) =>
        AllowedNamespaces.Contains(ns) || AllowedTypes.Any(t => t.StartsWith(ns + ".", StringComparison.Ordinal) && t.LastIndexOf('.') == ns.Length);
}
