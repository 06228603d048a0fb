using Backtesting.Grains.Admission;

namespace Backtesting.Tests.Cluster;

/// <summary>The result cache's admission rule (Grains/Admission/ResultCache.cs).</summary>
public class ResultCacheRuleTests
{
    [Fact]
    public void A_template_run_may_reuse_any_owners_results()
    {
        Assert.Null(ResultCache.ReuseScope("alice", customStrategy: false));
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("bob")]
    public void A_custom_strategy_run_reuses_only_its_own_owners_results(string owner)
    {
        Assert.Equal(owner, ResultCache.ReuseScope(owner, customStrategy: true));
    }

    [Fact]
    public void The_history_entry_of_a_hit_names_no_backtest()
    {
        Assert.DoesNotMatch("[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}", ResultCache.HitReason);
    }
}
