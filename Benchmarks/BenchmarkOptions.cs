using System.Globalization;

namespace Backtesting.Benchmarks;

/// <summary>
/// The <c>--name value</c> options of a benchmark mode, parsed once: an option the mode does not take, or one
/// without its value, is refused with a message (the mode then exits with 2), never silently ignored.
/// </summary>
internal sealed class BenchmarkOptions
{
    private readonly Dictionary<string, string> _values;

    private BenchmarkOptions(Dictionary<string, string> values) => _values = values;

    /// <summary>The options in <paramref name="args"/>, each of which must be one of <paramref name="known"/>; null (said on stderr) otherwise.</summary>
    public static BenchmarkOptions? Parse(IReadOnlyList<string> args, params string[] known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            if (!known.Contains(args[i], StringComparer.Ordinal) || i + 1 >= args.Count)
            {
                Console.Error.WriteLine($"unknown or incomplete option '{args[i]}' (this mode takes: {string.Join(", ", known)})");
                return null;
            }

            values[args[i]] = args[++i];
        }

        return new BenchmarkOptions(values);
    }

    /// <summary>A whole number of at least 1 (a count of rounds, runs or trials), or <paramref name="fallback"/> when absent.</summary>
    public int Count(string name, int fallback) => (int)Math.Min(int.MaxValue, LongCount(name, fallback));

    /// <inheritdoc cref="Count"/>
    public long LongCount(string name, long fallback) =>
        _values.TryGetValue(name, out var value) ? Math.Max(1, long.Parse(value, CultureInfo.InvariantCulture)) : fallback;

    /// <summary>The option's value as given, or <paramref name="fallback"/> when absent.</summary>
    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    /// <summary>A path made absolute from the current folder, or null when absent.</summary>
    public string? FullPath(string name) => _values.TryGetValue(name, out var value) ? Path.GetFullPath(value) : null;
}
