using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Supervision;

namespace Backtesting.Tests.Rules;

/// <summary>Streamed events are live hints: a failed publish is dropped and counted, never thrown into the run.</summary>
public sealed class LiveEventPublisherTests
{
    private readonly List<BacktestEvent> _published = [];
    private readonly List<long> _reports = [];
    private bool _streamDown;

    private LiveEventPublisher Publisher() => new(
        e => Send([e]),
        batch => Send(batch),
        (_, dropped) => _reports.Add(dropped));

    private Task Send(IReadOnlyList<BacktestEvent> events)
    {
        if (_streamDown)
        {
            throw new InvalidOperationException("Exception while sending message: unable to connect to the silo");
        }

        _published.AddRange(events);
        return Task.CompletedTask;
    }

    private static BacktestEvent Event(int n) => new(Guid.Empty, "backtest_progress", $"{{\"n\":{n}}}");

    [Fact]
    public async Task Events_reach_the_stream_in_order_one_by_one_and_in_batches()
    {
        var publisher = Publisher();
        await publisher.PublishAsync(Event(1));
        await publisher.PublishAsync([Event(2), Event(3)]);

        Assert.Equal(["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], _published.Select(e => e.Json));
        Assert.Equal(0, publisher.Dropped);
    }

    [Fact]
    public async Task A_publish_that_fails_is_counted_and_never_thrown_single_or_batch()
    {
        var publisher = Publisher();
        _streamDown = true;

        await publisher.PublishAsync(Event(1));
        await publisher.PublishAsync([Event(2), Event(3)]);

        Assert.Empty(_published);
        Assert.Equal(3, publisher.Dropped);
    }

    [Fact]
    public async Task Only_the_first_failure_of_a_run_of_failures_is_reported_and_a_success_ends_the_run()
    {
        var publisher = Publisher();
        _streamDown = true;
        await publisher.PublishAsync(Event(1));
        await publisher.PublishAsync(Event(2));
        _streamDown = false;
        await publisher.PublishAsync(Event(3));
        _streamDown = true;
        await publisher.PublishAsync([Event(4), Event(5)]);

        Assert.Equal([1L, 4L], _reports);
        Assert.Equal(["{\"n\":3}"], _published.Select(e => e.Json));
    }

    [Fact]
    public async Task An_empty_batch_is_not_sent()
    {
        var sends = 0;
        var publisher = new LiveEventPublisher(_ => Task.CompletedTask, _ => { sends++; return Task.CompletedTask; }, (_, _) => { });

        await publisher.PublishAsync(Array.Empty<BacktestEvent>());

        Assert.Equal(0, sends);
    }
}
