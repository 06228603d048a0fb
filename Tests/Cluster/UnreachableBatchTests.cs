using System.Diagnostics;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.DependencyInjection;
using static Backtesting.Tests.Cluster.OptimizationClusterHost;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// An optimization batch waits for an unreachable cluster as a backtest does, for <c>ClusterUnreachableGrace</c> and no
/// longer: before, a batch whose queue could not be reached tried again every few seconds without end, and its job stayed
/// running for good.
/// </summary>
[Collection("cluster")]
public sealed class UnreachableBatchTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_batch_whose_queue_stays_unreachable_past_the_grace_fails_and_its_job_with_it_and_its_slot_goes_back_once_it_answers()
    {
        var runner = new RefusingRunner();
        var queue = new UnreachableQueue(runner);
        await using var host = await TestClusterHost.StartAsync(silos: 1, o =>
        {
            o.Optimization.BatchTrials = 12;
            o.ClusterUnreachableGrace = Grace;
        }, services: s =>
        {
            s.AddSingleton<IBacktestRunner>(runner);
            s.AddSingleton<IIncomingGrainCallFilter>(queue);
        });

        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(SmallGrid)));
        // The batch's run could not start (its runner's daemon restarting): it is taken up again every few seconds, and
        // from then on every call it makes to the queue fails as a call to a dead silo does.
        await runner.Refused.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var since = Stopwatch.StartNew();

        var failed = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromSeconds(60));
        var waited = since.Elapsed;
        Assert.Equal(OptimizationState.Failed, failed.State);
        Assert.Contains("batch 0 failed: the cluster could not be reached", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("queue's silo died (test)", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.True(queue.Refusals >= 2, $"the queue refused the batch {queue.Refusals} time(s)");
        // Not before the grace: the first refusals were waited out.
        Assert.True(waited >= Grace - TimeSpan.FromSeconds(1), $"the batch gave up after {waited.TotalSeconds:0.0} s");
        Assert.Equal(1, runner.Starts);

        // Its slot could not be given back while the queue was unreachable; once it answers, the next retry gives it back.
        queue.Heal();
        await host.WaitForFreeSlots();
        Assert.Equal(OptimizationState.Failed, (await host.Optimization(id).GetStatus()).State);
    }

    [Fact]
    public async Task A_batch_whose_queue_call_fails_as_its_run_starts_leaves_no_run_unsupervised_and_completes_each_trial_once()
    {
        var runner = new CountingRunner();
        var queue = new StartRenewalFails();
        await using var host = await TestClusterHost.StartAsync(silos: 1, o => o.Optimization.BatchTrials = 12, services: s =>
        {
            s.AddSingleton<IBacktestRunner>(sp => runner.Around(new InProcessRunner(sp.GetRequiredService<Backtesting.Engine.Data.IMarketDataProvider>())));
            s.AddSingleton<IIncomingGrainCallFilter>(queue);
        });

        var id = Guid.NewGuid();
        await host.Optimization(id).Submit(Submission(Job(SmallGrid)));
        var done = await host.WaitForJob(id, s => s.IsTerminal, TimeSpan.FromSeconds(90));

        Assert.Equal(OptimizationState.Completed, done.State);
        Assert.Equal(1, queue.Refusals);
        var rows = await host.Rows(id);
        Assert.Equal(Enumerable.Range(0, 12), rows.Select(r => r.TrialNumber).Order());
        // Every run the runner started was supervised to its end and given back: none left running beside the batch.
        await host.WaitForFreeSlots();
        Assert.True(runner.Started >= 1, "no run started");
        Assert.Equal(runner.Started, runner.Disposed);
    }

    /// <summary>
    /// Fails the batch's second renewal of its slot, the one its start makes (the first confirms the grant), as a call to a
    /// dead silo fails: before the fix that renewal came right after the worker started, and failing it left that worker
    /// running with nothing reading it.
    /// </summary>
    private sealed class StartRenewalFails : IIncomingGrainCallFilter
    {
        private int _renewals;
        private int _refusals;

        public int Refusals => _refusals;

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (context.Grain is IBacktestQueueGrain && context.MethodName == nameof(IBacktestQueueGrain.Renew)
                && Interlocked.Increment(ref _renewals) == 2)
            {
                Interlocked.Increment(ref _refusals);
                throw new SiloUnavailableException("The target silo became unavailable (the queue's silo died (test))");
            }

            return context.Invoke();
        }
    }

    /// <summary>Counts the runs an inner runner started and the handles disposed of them.</summary>
    private sealed class CountingRunner : IBacktestRunner
    {
        private IBacktestRunner? _inner;
        private int _started;
        private int _disposed;

        public int Started => Volatile.Read(ref _started);

        public int Disposed => Volatile.Read(ref _disposed);

        public string Kind => _inner!.Kind;

        public CountingRunner Around(IBacktestRunner inner)
        {
            _inner = inner;
            return this;
        }

        public async Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
        {
            var handle = await _inner!.StartAsync(request, cancellation);
            Interlocked.Increment(ref _started);
            return new Counted(handle, this);
        }

        private sealed class Counted(IRunHandle inner, CountingRunner owner) : IRunHandle
        {
            private int _disposed;

            public System.Threading.Channels.ChannelReader<string> Lines => inner.Lines;

            public Task<RunExit> Exit => inner.Exit;

            public int? ProcessId => inner.ProcessId;

            public string? ReattachedOutputDirectory => inner.ReattachedOutputDirectory;

            public Task PauseAsync() => inner.PauseAsync();

            public Task ResumeAsync() => inner.ResumeAsync();

            public Task StopAsync(TimeSpan grace) => inner.StopAsync(grace);

            public async ValueTask DisposeAsync()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    Interlocked.Increment(ref owner._disposed);
                }

                await inner.DisposeAsync();
            }
        }
    }

    /// <summary>Refuses the one start it is asked for as a restarting daemon would, and says which batch asked.</summary>
    private sealed class RefusingRunner : IBacktestRunner
    {
        private int _starts;

        public TaskCompletionSource<Guid> Refused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Starts => _starts;

        public string Kind => "inProcess";

        public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
        {
            if (Interlocked.Increment(ref _starts) > 1)
            {
                return Task.FromException<IRunHandle>(new InvalidOperationException("started again after the refusal (test)"));
            }

            Refused.TrySetResult(request.BacktestId);
            return Task.FromException<IRunHandle>(new RunnerInterruptedException("the daemon is restarting (test)"));
        }
    }

    /// <summary>Once the runner refused, fails every call to the queue about that batch as a call to a dead silo fails, until healed.</summary>
    private sealed class UnreachableQueue(RefusingRunner runner) : IIncomingGrainCallFilter
    {
        private volatile bool _healed;
        private int _refusals;

        public int Refusals => _refusals;

        public void Heal() => _healed = true;

        public Task Invoke(IIncomingGrainCallContext context)
        {
            if (!_healed && context.Grain is IBacktestQueueGrain && runner.Refused.Task.IsCompleted
                && context.Request.GetArgumentCount() > 0 && context.Request.GetArgument(0) is Guid id && id == runner.Refused.Task.Result)
            {
                Interlocked.Increment(ref _refusals);
                throw new SiloUnavailableException("The target silo became unavailable (the queue's silo died (test))");
            }

            return context.Invoke();
        }
    }
}
