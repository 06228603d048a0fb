using System.Text.Json.Nodes;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Strategies;
using Backtesting.Tests.Optimization;

namespace Backtesting.Tests.Engine;

/// <summary>
/// A backtest's content hash does not depend on the order its strategyConfig names come in: for every strategy of the
/// catalog, every rotation and the reversal of its parameters' order give the hash of the schema's order. (A trial's
/// parameters come back from PostgreSQL's jsonb shortest key first; a client writes them in any order.)
/// </summary>
public sealed class ContentHashOrderTests
{
    private static string Hash(string strategy, IEnumerable<KeyValuePair<string, JsonNode?>> parameters)
    {
        var node = JsonNode.Parse("""{"startDate":"2015-01-01","endDate":"2015-06-30","instruments":["SPY"],"initialBalance":100000}""")!;
        node["strategyClass"] = strategy;
        node["strategyConfig"] = new JsonObject(parameters);
        var config = ConfigValidator.Parse(node.ToJsonString()).Config!;
        var validation = ConfigValidator.Validate(config, OptimizationFixtures.Lean, StrategyCatalog.Templates, ValidationPolicy.Local, OptimizationFixtures.Today);
        Assert.True(validation.IsValid, $"{strategy}: " + string.Join("; ", validation.Errors.Select(e => e.Message)));
        return new BacktestRun(validation.Spec!, OptimizationFixtures.Lean, StrategyCatalog.Templates).ContentHash();
    }

    [Fact]
    public void Every_order_of_every_templates_parameters_gives_one_content_hash()
    {
        var tried = 0;
        foreach (var strategy in StrategyCatalog.Templates.All.Where(s => s.Parameters.Count(p => p.Default is not null) >= 2))
        {
            var parameters = strategy.Parameters.Where(p => p.Default is not null)
                .Select(p => (p.Name, Value: System.Text.Json.JsonSerializer.SerializeToNode(p.Default))).ToList();
            var inSchemaOrder = Hash(strategy.Name, parameters.Select(p => KeyValuePair.Create(p.Name, p.Value?.DeepClone())));
            var orders = Enumerable.Range(1, parameters.Count - 1).Select(r => parameters.Skip(r).Concat(parameters.Take(r)).ToList())
                .Append(Enumerable.Reverse(parameters).ToList())
                .Append([.. parameters.OrderBy(p => p.Name.Length).ThenBy(p => p.Name, StringComparer.Ordinal)]);
            foreach (var order in orders)
            {
                Assert.True(inSchemaOrder == Hash(strategy.Name, order.Select(p => KeyValuePair.Create(p.Name, p.Value?.DeepClone()))),
                    $"{strategy.Name}: {string.Join(",", order.Select(p => p.Name))} hashed differently from the schema's order");
            }

            tried++;
        }

        Assert.True(tried >= 4, $"only {tried} strategies of the catalog have two parameters or more");
    }
}
