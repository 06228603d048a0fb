using Backtesting.Compiler;

namespace Backtesting.Tests.Custom;

/// <summary>
/// What decides whether an optimization batch may load a custom strategy once for all its trials: every way C# source
/// can declare static state is found in the compiled metadata, and what the compiler generates on its own (lambda
/// caches, constants, records, iterators, array data) is not state.
/// </summary>
public class StaticStateTests
{
    private static IReadOnlyList<string> Fields(string members, string extraTypes = "")
    {
        var source = StrategySources.Probe(members: members, inOnStart: "        var twice = Twice(new[] { 1, 2, 3 });") + "\n" + extraTypes;
        var compiled = StrategyCompiler.Compile(source.Replace("    public int Hoarded",
            "    private static System.Collections.Generic.IEnumerable<int> Twice(int[] items) { foreach (var i in items) { yield return i * 2; } }\n    public int Hoarded",
            StringComparison.Ordinal));
        Assert.True(compiled.Ok, string.Join("\n", compiled.Diagnostics));
        return StaticState.Fields(compiled.Assembly!);
    }

    public static TheoryData<string, string, string> Stateful() => new()
    {
        { "a static field", "    private static int s_count;", "Probe.s_count" },
        { "a static readonly array", "    private static readonly double[] s_seen = new double[4];", "Probe.s_seen" },
        { "a static auto-property", "    public static int Runs { get; set; }", "Probe.<Runs>k__BackingField" },
        { "a static event", "    public static event System.Action? Ran;", "Probe.Ran" },
    };

    [Theory]
    [MemberData(nameof(Stateful))]
    public void Every_kind_of_static_state_a_strategy_can_declare_is_found(string kind, string member, string expected) =>
        Assert.True(Fields(member).Contains(expected), $"{kind}: found {string.Join(", ", Fields(member))}");

    [Fact]
    public void A_static_field_of_a_helper_type_is_found_too() =>
        Assert.Equal(["Helper.Shared"], Fields("", "internal static class Helper { public static int Shared; }"));

    [Fact]
    public void Constants_lambdas_records_iterators_and_array_data_are_not_state()
    {
        var members = """
                private const int Limit = 10;
                private readonly System.Func<int, int> _square = x => x * x;
                private static int Double(int x) => x * 2;
                private readonly System.Collections.Generic.List<int> _list = new() { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
                private int Sum() => System.Linq.Enumerable.Sum(System.Linq.Enumerable.Select(_list, x => x + Limit));
            """;
        Assert.Empty(Fields(members, "internal sealed record Point(int X, int Y);"));
    }

    [Fact]
    public void The_example_sma_cross_keeps_no_static_state() =>
        Assert.Empty(StaticState.Fields(StrategyCompiler.Compile(StrategySources.SmaCross).Assembly!));
}
