using System.Diagnostics;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Admission;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Persistence;
using Backtesting.Grains.Protocol;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using Backtesting.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace Backtesting.Grains;

/// <summary>
/// One backtest. Orchestration only: every rule is a plain type it calls. Transitions are checked against
/// <see cref="Lifecycle"/> and written in order by <see cref="BacktestStateWriter"/> (grain state and the backtests row,
/// before they are acknowledged, kept in the history); admission resolves strategies with <see cref="StrategyResolver"/>
/// and reuses results by <see cref="ResultCache"/>. A run is supervised (BacktestGrain.Supervision.cs) by reading the
/// worker's lines as <see cref="WorkerEvent"/>s, each published on the backtest's stream, and its end is decided by
/// <see cref="RunEndRule"/>. A reminder brings the grain back on any silo after a crash, where it restarts the run
/// from the checkpoint kept in PostgreSQL.
/// </summary>
public sealed partial class BacktestGrain : Grain, IBacktestGrain, IRemindable
{
    private const string RecoveryReminder = "recover";

    private readonly IPersistentState<BacktestGrainState> _state;
    private readonly BacktestStateWriter _writer;
    private readonly IBacktestStore _store;
    private readonly IStrategyStore _strategyStore;
    private readonly StrategyResolver _strategyResolver;
    private readonly IBacktestRunner _runner;
    private readonly IMarketDataProvider _data;
    private readonly BacktestClusterOptions _options;
    private readonly ILogger<BacktestGrain> _log;
    private readonly ILocalSiloDetails _siloDetails;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private LiveEventPublisher? _events;
    private IGrainTimer? _tick;
    /// <summary>The attempt this activation supervises (null: none started here); kept after its run ends.</summary>
    private ActiveAttempt? _attempt;
    /// <summary>The latest resource sample measured from outside the worker (Docker stats); live only, not persisted.</summary>
    private ResourceUsage? _resources;
    /// <summary>The silo is going away: the run is left alone and this activation no longer touches the state.</summary>
    private bool _detached;
    /// <summary>
    /// An attempt is being started: starting a container takes a while, and the supervision loop that starts a
    /// retry interleaves with reminder ticks, which must not take the gap for a lost run and start another.
    /// </summary>
    private bool _attemptStarting;
    /// <summary>The run has ended and is being wound up (results saved, a retry decided).</summary>
    private bool _runEnding;
    /// <summary>The recovery reminder as this activation registered it (null: not registered here, or gone).</summary>
    private IGrainReminder? _recovery;

    public BacktestGrain(
        [PersistentState("backtest", "Default")] IPersistentState<BacktestGrainState> state,
        IBacktestStore store,
        IStrategyStore strategyStore,
        IBacktestRunner runner,
        IMarketDataProvider data,
        StrategyCatalog strategies,
        IOptions<BacktestClusterOptions> options,
        ILocalSiloDetails siloDetails,
        ILogger<BacktestGrain> log)
    {
        _siloDetails = siloDetails;
        _state = state;
        _store = store;
        _strategyStore = strategyStore;
        _strategyResolver = new StrategyResolver(strategies, strategyStore);
        _runner = runner;
        _data = data;
        _options = options.Value;
        _unreachable = new UnreachableWait(_options.ClusterUnreachableGrace);
        _log = log;
        _writer = new BacktestStateWriter(this.GetPrimaryKey(), state, store);
    }

    private BacktestGrainState S => _state.State;
    private Guid Id => this.GetPrimaryKey();

    /// <summary>The current run, while it lasts.</summary>
    private IRunHandle? Run => _attempt?.Run;

    /// <summary>A run exists, is being started, or is being wound up (results saved, a retry decided).</summary>
    private bool HasRun => Run is not null || _attemptStarting || _runEnding;

    /// <summary>How often a run interrupted by the cluster (the database, a silo, the runner's daemon) is tried again (<c>RecoverSoon</c>).</summary>
    private static readonly TimeSpan RecoveryRetryPeriod = TimeSpan.FromSeconds(3);

    private IGrainTimer? _recoverSoon;
    /// <summary>How long the cluster has been unreachable in an unbroken run of such faults (its grace bounds the wait).</summary>
    private readonly UnreachableWait _unreachable;
    /// <summary>What interrupted the run the quick retries take up again (an outcome of <see cref="RunInterruptions"/>; null: its silo was lost).</summary>
    private string? _interruption;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stream = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<BacktestEvent>(StreamId.Create(StreamNames.Namespace, Id));
        _events = new LiveEventPublisher(e => stream.OnNextAsync(e), batch => stream.OnNextBatchAsync(batch),
            (e, dropped) => LogEventsNotPublished(e, Id, dropped));
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The silo is going away with a run in flight: leave the run alone (a container keeps running, and the
        // next activation reattaches to it) and stop this activation's supervision from touching the state.
        _detached = Run is not null;
        return Task.CompletedTask;
    }

    // ---- Requests -------------------------------------------------------------------------------------

    public async Task<BacktestStatus> Submit(BacktestSubmission submission)
    {
        if (S.State != BacktestState.Created || S.Deleted || S.ConfigJson is not null)
        {
            throw new IllegalTransitionException(S.State, "submit");
        }

        var (strategies, custom) = await _strategyResolver.ResolveAsync(submission);
        var validation = ConfigValidator.Validate(submission.Config, _data, strategies, _options.AdmissionPolicy(),
            DateOnly.FromDateTime(DateTime.UtcNow));
        if (!validation.IsValid)
        {
            throw new BacktestValidationException(validation.Errors);
        }

        var now = DateTime.UtcNow;
        var hash = new BacktestRun(validation.Spec!, _data, strategies).ContentHash();
        S.CustomStrategy = custom is null ? null : new CustomStrategyRef(custom.StrategyId, custom.Name, custom.Version, custom.ContentHash);
        S.Owner = submission.Owner;
        S.Priority = submission.Priority;
        S.ConfigJson = JsonSerializer.Serialize(submission.Config, JsonDefaults.Options);
        S.Strategy = submission.Config.StrategyClass;
        S.InstrumentCount = submission.Config.Instruments.Count;
        S.ContentHash = hash;
        S.CreatedAt = now;
        S.UpdatedAt = now;
        StatusHistory.Add(S.History, BacktestState.Created, now, null);
        await _writer.Save();
        await _store.CreateAsync(new BacktestRecord(Id, S.Owner, submission.Config.StrategyClass, S.ConfigJson,
            validation.Spec!.Start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            validation.Spec.End.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            Lifecycle.Word(BacktestState.Created), now, null, 0, null, (int)submission.Priority, hash));
        if (custom is not null)
        {
            await _strategyStore.RecordBacktestStrategyAsync(Id, custom.StrategyId, custom.Version);
        }

        await AnnounceOnStream();

        if (submission.UseCache && await ResultCache.LookupAsync(_store, Id, hash, S.Owner, custom is not null) is { } result)
        {
            // A copy under this backtest's own id; nothing that follows names the backtest it came from.
            await _store.SaveResultsAsync(Id, result);
            S.FromCache = true;
            S.Summary = ResultsFile.SummaryOf(result);
            await _writer.MoveTo(BacktestState.Completed, ResultCache.HitReason);
            await Publish(MessageTypes.Complete, new BacktestCompleteData(CompletionStatus.Completed, 0, S.Summary, ResultsUrl, false));
            return Status();
        }

        await _writer.MoveTo(BacktestState.Queued, null);
        _recovery = await this.RegisterOrUpdateReminder(RecoveryReminder, _options.RecoveryReminderPeriod, _options.RecoveryReminderPeriod);
        await Queue.Enqueue(Id, S.Owner, S.Priority);
        return Status();
    }

    public Task<BacktestStatus> GetStatus()
    {
        EnsureExists();
        return Task.FromResult(Status());
    }

    public async Task<BacktestStatus> Pause()
    {
        EnsureExists();
        if (S.State != BacktestState.Running || _attempt?.Run is not { } run)
        {
            throw new IllegalTransitionException(S.State, "pause");
        }

        await RunnerStep(run.PauseAsync, "pause");
        _attempt.Watchdog.Paused();
        AccumulateRunningTime();
        await _writer.MoveTo(BacktestState.Paused, "paused by request; the run keeps its slot");
        return Status();
    }

    public async Task<BacktestStatus> Resume()
    {
        EnsureExists();
        if (S.State != BacktestState.Paused)
        {
            throw new IllegalTransitionException(S.State, "resume");
        }

        if (_attempt?.Run is not { } run)
        {
            // The silo that held the frozen run is gone: continue from the checkpoint, in a slot.
            if (await Queue.TakeUp(Id, SiloName) is { } grantedAt)
            {
                await StartAttempt("resumed after the paused run was lost", grantedAt);
            }
            else
            {
                await _writer.MoveTo(BacktestState.Queued, "resumed after the paused run was lost; waiting for a slot");
                await Queue.Enqueue(Id, S.Owner, S.Priority);
            }

            return Status();
        }

        await RunnerStep(run.ResumeAsync, "resume");
        _attempt.Watchdog.Resumed(_clock.Elapsed);
        _attempt.RunningSince = Stopwatch.StartNew();
        await _writer.MoveTo(BacktestState.Running, "resumed by request");
        return Status();
    }

    /// <summary>
    /// Pauses or resumes the run through its runner. A refusal (a Docker API error, a process that just exited) is
    /// answered as a refused transition that names the reason: the runner's own exception types cannot cross to the
    /// API, and nothing was changed.
    /// </summary>
    private async Task RunnerStep(Func<Task> step, string action)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is not IllegalTransitionException)
        {
            LogRunnerRefused(e, Id, action);
            throw new IllegalTransitionException(S.State, action, $"the runner refused ({e.GetBaseException().Message})");
        }
    }

    public async Task<BacktestStatus> ChangePriority(BacktestPriority priority)
    {
        EnsureExists();
        if (S.State != BacktestState.Queued || !await Queue.ChangePriority(Id, priority))
        {
            throw new IllegalTransitionException(S.State, "change the priority of");
        }

        // The queue holds the order; the grain keeps the priority for a re-enqueue, the row for listings.
        S.Priority = priority;
        await _writer.Save();
        await _store.UpdatePriorityAsync(Id, (int)priority);
        return Status();
    }

    public async Task<BacktestStatus> Cancel()
    {
        EnsureExists();
        if (Lifecycle.IsTerminal(S.State))
        {
            throw new IllegalTransitionException(S.State, "cancel");
        }

        await StopRun(BacktestState.Cancelled, "cancelled by request");
        return Status();
    }

    public async Task Delete()
    {
        EnsureExists();
        if (!Lifecycle.IsTerminal(S.State))
        {
            await StopRun(BacktestState.Cancelled, "cancelled because the backtest was deleted");
        }

        await _store.DeleteAsync(Id);
        await UnregisterRecovery();
        await _state.ClearStateAsync();
        S.Deleted = true;
        DeactivateOnIdle();
    }

    public async Task<BacktestResult?> GetResults()
    {
        EnsureExists();
        return await _store.GetResultAsync(Id);
    }

    public async Task OnSlotGranted()
    {
        if (S.Deleted || S.ConfigJson is null)
        {
            await Queue.Release(Id);
            return;
        }

        if (S.State != BacktestState.Queued && !Lifecycle.IsActive(S.State))
        {
            // Cancelled while waiting: the slot is not needed.
            await Queue.Release(Id);
            return;
        }

        // Already running here: the slot is not needed twice. And a grant may come again (the queue announces one no
        // silo took up once more) or late: only a slot the queue says is this backtest's may start a run, and taking it
        // up tells the queue at once which silo runs it.
        if (HasRun || await Queue.TakeUp(Id, SiloName) is not { } grantedAt)
        {
            return;
        }

        await StartAttempt(S.State == BacktestState.Queued ? null : "restarted after its run was lost", grantedAt);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => RecoverLostRun();

    public Task RecoverLostRun() => Recover(interruption: null);

    /// <summary>
    /// One recovery, as <see cref="RecoveryRule"/> decides from the state: an ended backtest settles its end (state and row
    /// stored again, slot given back, reminder dropped), a lost paused run keeps its slot, a lost run starts again from its
    /// checkpoint, a waiting one asks for a slot again. <paramref name="interruption"/> says what took the run away (the
    /// outcome of <see cref="RunInterruptions.Of"/>; null: its silo was lost).
    /// </summary>
    private async Task Recover(string? interruption)
    {
        switch (RecoveryRule.Next(S.State, S.Deleted, HasRun))
        {
            case RecoveryStep.SettleEnd:
                if (!S.Deleted && S.ConfigJson is not null)
                {
                    // The grain is the truth: a terminal move whose row (or state) write broke off is written again.
                    await _writer.StoreAgain();
                }

                // Its silo may have died between storing the end and announcing it: announced again (a listener takes a
                // repeated end as it took the first; a missing one would leave it waiting for good). Not while this
                // activation winds its own run up: that announces the end itself, and a reminder tick in between must not
                // announce it first.
                if (!HasRun)
                {
                    await AnnounceEnd();
                }

                await Queue.Release(Id);
                await UnregisterRecovery();
                return;
            case RecoveryStep.KeepPausedSlot:
                // A paused run lost with its silo stays paused (its checkpoint is kept); Resume restarts it.
                await Queue.Renew(Id, SiloName);
                return;
            case RecoveryStep.RestartRun:
                // This activation has no run although the state says there is one: its silo died, or the cluster interrupted it.
                if (interruption is null)
                {
                    LogRunLost(Id, S.State);
                }
                else
                {
                    LogRunInterruptedRestart(Id, S.State, RunInterruptions.Describe(interruption));
                }

                if (await Queue.TakeUp(Id, SiloName) is not { } grantedAt)
                {
                    await _writer.MoveTo(BacktestState.Queued, "its slot expired while the run was lost; queued again");
                    await Queue.Enqueue(Id, S.Owner, S.Priority);
                    return;
                }

                await StartAttempt("restarted after " + RunInterruptions.Describe(interruption), grantedAt);
                return;
            case RecoveryStep.AskForSlot:
                // Harmless if it is already queued: enqueue is idempotent, and a lost queue entry comes back.
                await Queue.Enqueue(Id, S.Owner, S.Priority);
                return;
        }
    }

    // ---- Shared by requests and supervision -----------------------------------------------------------

    private IBacktestQueueGrain Queue => GrainFactory.GetGrain<IBacktestQueueGrain>(0);

    private string SiloName => _siloDetails.SiloAddress.ToParsableString();

    private string ResultsUrl => BacktestLinks.Results(Id);

    private async Task UnregisterRecovery()
    {
        // The handle this activation registered saves looking the reminder up; a recovered activation looks.
        if ((_recovery ?? await this.GetReminder(RecoveryReminder)) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        _recovery = null;
    }

    /// <summary>
    /// Publishes the backtest's first event (progress 0%) as soon as it exists. A stream's first event is slow to
    /// arrive: the pulling agent registers with the stream's pub-sub (a write to PubSubStore) and greets each
    /// subscriber before it delivers anything, 13-240 ms on the shared machine. Started here, that overlaps the
    /// queue and the run's start instead of holding back the run's first burst of lines. A live hint only, like every
    /// event (<see cref="LiveEventPublisher"/>): a failure is logged, never fails the submission.
    /// </summary>
    private Task AnnounceOnStream() => Publish(MessageTypes.Progress, S.Progress ?? BacktestProgressData.None);

    /// <summary>Publishes the end of an ended backtest as <see cref="EndAnnouncement"/> words it (nothing when it has not ended).</summary>
    private async Task AnnounceEnd()
    {
        if (EndAnnouncement.Of(S.State, S.Deleted || S.ConfigJson is null, S.RunningTime, S.Summary, S.Error, ResultsUrl) is not { } end)
        {
            return;
        }

        if (end.Error is { } error)
        {
            await Publish(MessageTypes.Error, error);
        }

        await Publish(MessageTypes.Complete, end.Complete);
    }

    private Task Publish<T>(string type, T data)
    {
        if (_events is null)
        {
            return Task.CompletedTask;
        }

        var line = JsonSerializer.Serialize(new BacktestMessage<T>(type, Id.ToString(), DateTime.UtcNow, data), JsonDefaults.Options);
        return _events.PublishAsync(new BacktestEvent(Id, type, line));
    }

    private void EnsureExists()
    {
        if (S.Deleted || S.ConfigJson is null)
        {
            throw new KeyNotFoundException($"backtest {Id} does not exist");
        }
    }

    private BacktestStatus Status() => new(Id, S.State, S.Owner, S.Priority, S.Strategy, S.CreatedAt,
        S.UpdatedAt, S.CompletedAt, S.Progress, S.Error, S.Summary, S.Attempts.ToList(), S.History.ToList(), S.FromCache, S.ContentHash,
        Lifecycle.IsActive(S.State) ? _resources : null, S.CustomStrategy);
}
