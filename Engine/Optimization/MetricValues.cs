using System.Reflection;
using System.Text.Json;
using Backtesting.Engine.Metrics;

namespace Backtesting.Engine.Optimization;

/// <summary>
/// The metrics an objective or a constraint may name: every number of <see cref="PerformanceMetrics"/>, by its camelCase
/// wire name, read without reflection per call (the getters are bound once).
/// </summary>
public static class MetricValues
{
    private static readonly Dictionary<string, Func<PerformanceMetrics, double?>> Getters = Build();

    /// <summary>Every metric name, in the record's order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Getters.Keys];

    public static bool IsMetric(string? name) => name is not null && Getters.ContainsKey(name);

    /// <summary>The metric's value; null when the metric is undefined for the run (see <see cref="PerformanceMetrics"/>).</summary>
    public static double? Get(PerformanceMetrics metrics, string name) =>
        Getters.TryGetValue(name, out var getter) ? getter(metrics) : throw new ArgumentException($"'{name}' is not a metric", nameof(name));

    private static Dictionary<string, Func<PerformanceMetrics, double?>> Build()
    {
        var getters = new Dictionary<string, Func<PerformanceMetrics, double?>>(StringComparer.Ordinal);
        foreach (var property in typeof(PerformanceMetrics).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (property.PropertyType == typeof(double?))
            {
                var get = property.GetGetMethod()!.CreateDelegate<Func<PerformanceMetrics, double?>>();
                getters[name] = get;
            }
            else if (property.PropertyType == typeof(double))
            {
                var get = property.GetGetMethod()!.CreateDelegate<Func<PerformanceMetrics, double>>();
                getters[name] = m => get(m);
            }
            else if (property.PropertyType == typeof(int))
            {
                var get = property.GetGetMethod()!.CreateDelegate<Func<PerformanceMetrics, int>>();
                getters[name] = m => get(m);
            }
        }

        return getters;
    }
}
