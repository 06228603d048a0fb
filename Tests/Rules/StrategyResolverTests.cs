using Backtesting.Engine.Configuration;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Admission;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Backtesting.Tests.Configuration;

namespace Backtesting.Tests.Rules;

/// <summary>Admission's strategy rule: templates, the owner's custom strategies, and pinned versions.</summary>
public sealed class StrategyResolverTests
{
    private readonly CallRecorder _store;
    private readonly StrategyResolver _resolver;

    public StrategyResolverTests()
    {
        var (store, recorder) = CallRecorder.Of<IStrategyStore>();
        _store = recorder;
        _resolver = new StrategyResolver(StrategyCatalog.Templates, store);
    }

    private static BacktestSubmission Submission(string strategy, int? version = null) =>
        new(ConfigValidator.Parse(ValidationTests.SeedExample).Config! with { StrategyClass = strategy }, "alice", StrategyVersion: version);

    private static StrategyVersion Stored(int version) =>
        new(Guid.NewGuid(), "alice", "Mine", version, "source", "hash", "{}", DateTime.UnixEpoch);

    private static async Task<string> RuleBroken(Task task) =>
        Assert.Single((await Assert.ThrowsAsync<BacktestValidationException>(() => task)).Errors).Rule;

    [Fact]
    public async Task A_template_is_admitted_with_the_templates_alone_without_asking_the_store()
    {
        var admitted = await _resolver.ResolveAsync(Submission("MovingAverageCross"));

        Assert.Same(StrategyCatalog.Templates, admitted.Strategies);
        Assert.Null(admitted.Custom);
        Assert.Empty(_store.Calls);
    }

    [Fact]
    public async Task A_version_pinned_on_a_template_is_refused() =>
        Assert.Equal("customOnly", await RuleBroken(_resolver.ResolveAsync(Submission("MovingAverageCross", 2))));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_pinned_version_below_one_is_refused(int version) =>
        Assert.Equal("min", await RuleBroken(_resolver.ResolveAsync(Submission("Mine", version))));

    [Fact]
    public async Task A_strategy_the_owner_does_not_have_is_left_to_the_validator_as_unknown()
    {
        var admitted = await _resolver.ResolveAsync(Submission("Mine"));

        Assert.Same(StrategyCatalog.Templates, admitted.Strategies);
        Assert.Null(admitted.Custom);
        Assert.Equal("alice", _store.Calls.Single().Arguments[0]);
    }

    [Fact]
    public async Task A_pinned_version_that_does_not_exist_is_refused()
    {
        _store.Answer = (method, args) => method == nameof(IStrategyStore.GetByNameAsync) && args[2] is null
            ? Task.FromResult<StrategyVersion?>(Stored(3))
            : null;

        Assert.Equal("unknown", await RuleBroken(_resolver.ResolveAsync(Submission("Mine", 7))));
    }
}
