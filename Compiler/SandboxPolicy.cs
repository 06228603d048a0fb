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
        "System.Math", "System.MathF", "System.MidpointRounding", "System.Convert",
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

    /// <summary>
    /// Members of allowed types that are still off limits because they read the wall clock: a backtest must give the
    /// same result for the same input, in any process, at any time (the content hash promises it).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> DeniedMembers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["System.DateTime.Now"] = ClockReason,
        ["System.DateTime.UtcNow"] = ClockReason,
        ["System.DateTime.Today"] = ClockReason,
        ["System.DateTime.ToLocalTime"] = MachineReason,
        ["System.DateTime.ToUniversalTime"] = MachineReason,
        ["System.Globalization.CultureInfo.CurrentCulture"] = MachineReason,
        ["System.Globalization.CultureInfo.CurrentUICulture"] = MachineReason,
        ["System.StringComparer.CurrentCulture"] = MachineReason,
        ["System.StringComparer.CurrentCultureIgnoreCase"] = MachineReason,
        ["System.StringComparison.CurrentCulture"] = MachineReason,
        ["System.StringComparison.CurrentCultureIgnoreCase"] = MachineReason,
        ["System.Object.GetType"] = "reflection is not allowed",
    };

    /// <summary>
    /// The only types whose <c>GetHashCode</c> a strategy may call: their hash is a function of the value alone. Every
    /// other hash (strings, objects, records, tuples, comparers) is seeded per process or taken from the object's
    /// identity, so it differs between runs of the same backtest.
    /// </summary>
    public static readonly IReadOnlySet<string> DeterministicHashTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "System.Boolean", "System.Char", "System.SByte", "System.Byte", "System.Int16", "System.UInt16", "System.Int32",
        "System.UInt32", "System.Int64", "System.UInt64", "System.Single", "System.Double", "System.Decimal",
        "System.DateTime", "System.DateOnly", "System.TimeOnly", "System.TimeSpan",
    };

    /// <summary>
    /// The only attributes a strategy may apply. Every other attribute is refused, since many change how the runtime
    /// treats a type or member (layout, field offsets, method implementation, skipped initialization, inline arrays,
    /// unsafe accessors, native imports, module initializers) and the C# compiler recognizes them by name.
    /// </summary>
    public static readonly IReadOnlySet<string> AllowedAttributes = new HashSet<string>(StringComparer.Ordinal)
    {
        "Backtesting.Engine.Strategies.ParameterAttribute", "Backtesting.Engine.Strategies.StrategyInfoAttribute",
        "System.ObsoleteAttribute", "System.FlagsAttribute",
    };

    /// <summary>
    /// The first segment of the namespaces a strategy may not declare types in, compared without regard to case
    /// after the compiler has resolved the name (so <c>@System</c>, <c>\u0053ystem</c> and nesting are the same).
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedNamespaceRoots = ["System", "Microsoft", "Backtesting"];

    private const string ClockReason = "reading the wall clock makes a backtest unrepeatable; use Time (the current bar's time)";

    private const string MachineReason = "it depends on the machine's time zone or culture, which makes a backtest unrepeatable";

    private const string HashReason =
        "this hash is seeded per process or taken from the object's identity, so it makes a backtest unrepeatable " +
        "(only numbers, bool, char and dates have a repeatable GetHashCode)";

    /// <summary>
    /// Why a member of an (otherwise allowed or own) type may not be used, or null when it may: the wall clock, hashes
    /// that differ between processes, reflection. <paramref name="member"/> is the member's name (accessors as the property).
    /// </summary>
    public static string? DeniedMemberReason(string typeFullName, string member)
    {
        if (DeniedMembers.TryGetValue(typeFullName + "." + member, out var reason))
        {
            return reason;
        }

        return member == nameof(GetHashCode) && !DeterministicHashTypes.Contains(typeFullName) ? HashReason : null;
    }

    /// <summary>True when a namespace (as the compiler resolved it) is under System, Microsoft or Backtesting, in any case.</summary>
    public static bool IsReservedNamespace(string ns)
    {
        var first = ns.Split('.')[0].Trim();
        return ReservedNamespaceRoots.Any(root => string.Equals(root, first, StringComparison.OrdinalIgnoreCase));
    }

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
        ["System.Random"] = "randomness makes a backtest unrepeatable (a strategy has no seeded Random either: derive any variation from the data)",
        ["System.HashCode"] = "HashCode is seeded randomly per process, which makes a backtest unrepeatable",
        ["System.Guid"] = "new GUIDs are random, which makes a backtest unrepeatable",
        ["System.DateTimeOffset"] = "DateTimeOffset reads the wall clock and the machine's time zone; use DateTime with the bar's Time",
        ["System.TimeProvider"] = "the wall clock makes a backtest unrepeatable; use Time (the current bar's time)",
        ["System.TimeZoneInfo"] = "time zones depend on the machine; bar times are UTC",
        ["System.Delegate"] = "dynamic invocation is not allowed",
        ["System.MulticastDelegate"] = "dynamic invocation is not allowed",
        ["System.Linq.ParallelEnumerable"] = "parallel LINQ is not allowed",
    };

    /// <summary>True when the (non-source) type is on the allow-list.</summary>
    public static bool IsAllowedType(string ns, string metadataName) =>
        AllowedNamespaces.Contains(ns) || AllowedTypes.Contains(ns.Length == 0 ? metadataName : ns + "." + metadataName)
        || AllowedAttributes.Contains(ns + "." + metadataName);

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
