using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Admission;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Optimization;
using Backtesting.Grains.Supervision;
using Backtesting.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace Backtesting.Grains;

/// <summary>
/// One optimization job. Orchestration only: the job's rules are the engine's (<see cref="OptimizationValidator"/>, the
/// search methods, <see cref="TrialRules"/>), its moves <see cref="OptimizationLifecycle"/>'s, each persisted (grain
/// state, then the optimizations row) before it is acknowledged. Its trials run in batches (OptimizationGrain.Batches.cs):
/// each an <see cref="IOptimizationBatchGrain"/> that waits for a slot of the cluster's queue like a backtest, runs one
/// worker over its trials and stores them. A reminder brings the job back on any silo after a crash, where it asks its
/// batches to go on.
/// </summary>
public sealed partial class OptimizationGrain : Grain, IOptimizationGrain, IOptimizationJobCallbacks, IRemindable
{
    private const string RecoveryReminder = "recover";

    private readonly IPersistentState<OptimizationGrainState> _state;
    private readonly PostgresOptimizationStore _store;
    private readonly IMarketDataProvider _data;
    private readonly StrategyCatalog _templates;
    private readonly StrategyResolver _resolver;
    private readonly BacktestClusterOptions _options;
    private readonly ILogger<OptimizationGrain> _log;
    /// <summary>The templates, plus the job's custom strategy as its stored schema describes it (no strategy code runs here).</summary>
    private StrategyCatalog? _strategies;
    private LiveEventPublisher<OptimizationEvent>? _events;
    private OptimizationPlan? _plan;
    /// <summary>Grid and random: every trial proposed so far, rebuilt from the method when needed (a pure function of the seed).</summary>
    private List<TrialPoint>? _proposed;
    private Stopwatch? _runningSince;
    private IGrainTimer? _progressTimer;
    private IGrainReminder? _recovery;
    /// <summary>Counts changed since the state was last written.</summary>
    private bool _dirty;

    public OptimizationGrain(
        [PersistentState("optimization", "Default")] IPersistentState<OptimizationGrainState> state,
        PostgresOptimizationStore store,
        IMarketDataProvider data,
        StrategyCatalog strategies,
        IStrategyStore strategyStore,
        IOptions<BacktestClusterOptions> options,
        ILogger<OptimizationGrain> log)
    {
        _state = state;
        _store = store;
        _data = data;
        _templates = strategies;
        _resolver = new StrategyResolver(strategies, strategyStore);
        _options = options.Value;
        _log = log;
    }

    private OptimizationGrainState S => _state.State;
    private Guid Id => this.GetPrimaryKey();
    private bool Exists => S.ConfigJson is not null && !S.Deleted;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stream = this.GetStreamProvider(OptimizationStreamNames.Provider)
            .GetStream<OptimizationEvent>(StreamId.Create(OptimizationStreamNames.Namespace, Id));
        _events = new LiveEventPublisher<OptimizationEvent>(e => stream.OnNextAsync(e), batch => stream.OnNextBatchAsync(batch),
            (e, dropped) => LogEventsNotPublished(e, Id, dropped));
        if (Exists && S.StrategyId is { } strategyId && S.StrategyVersion is { } version)
        {
            // Null when the version is gone: the job's plan then no longer validates, and it fails saying so.
            _strategies = (await _resolver.VersionAsync(S.Owner, strategyId, version))?.Strategies;
        }

        if (Exists && !OptimizationLifecycle.IsTerminal(S.State))
        {
            // Reports sent one way to an activation that died are lost: the stored trials are the truth.
            await Resync();
            if (S.State == OptimizationState.Running)
            {
                _runningSince = Stopwatch.StartNew();
            }

            StartProgressTimer();
        }
    }

    // ---- Requests -------------------------------------------------------------------------------------

    public async Task<OptimizationStatus> Submit(OptimizationSubmission submission)
    {
        if (S.ConfigJson is not null || S.Deleted)
        {
            throw new IllegalOptimizationMoveException(S.State, "submit");
        }

        // A custom strategy is the owner's own, validated through its stored schema, its version pinned for every batch.
        var (strategies, custom, config) = await OptimizationAdmission.ResolveAsync(_resolver, submission);
        var (errors, plan) = OptimizationValidator.Validate(config, _data, strategies, _options.AdmissionPolicy(),
            DateOnly.FromDateTime(DateTime.UtcNow));
        if (errors.Count > 0 || plan is null)
        {
            throw new OptimizationValidationException(errors);
        }

        _strategies = strategies;
        S.StrategyId = custom?.StrategyId;
        S.StrategyVersion = custom?.Version;

        var priority = EnumWords.TryParse<BacktestPriority>(plan.Config.Priority, out var word) ? word : BacktestPriority.Normal;
        var now = DateTime.UtcNow;
        _plan = plan;
        S.Owner = submission.Owner;
        S.Priority = priority;
        S.ConfigJson = JsonSerializer.Serialize(plan.Config, JsonDefaults.Options);
        S.Name = plan.Config.Name;
        S.Strategy = plan.Config.BaseConfig.StrategyClass;
        S.Method = plan.Config.Method;
        S.ObjectiveMetric = plan.Config.Objective.Metric;
        S.ObjectiveDirection = plan.Config.Objective.Direction;
        S.PlannedTrials = checked((int)plan.PlannedTrials);
        // Sized once, from the plan's estimated work and the slots the owner has free now: a job keeps its batches.
        var shape = BatchSizing.Of(new BatchJob(plan.Method, plan.PlannedTrials, TrialWork.PointsPerTrial(plan, _data.Calendar)),
            await GrainFactory.GetGrain<IBacktestQueueGrain>(0).FreeSlots(submission.Owner), _options.Optimization);
        S.BatchTrials = shape.Trials;
        S.BatchCpus = shape.Cpus;
        S.CreatedAt = now;
        S.UpdatedAt = now;
        S.History.Add(new OptimizationStateChange(OptimizationState.Created, now, null));
        // The reminder before the first durable write: a silo that dies after any write below leaves a job its reminder
        // brings back (Admit again), never a stored job nobody resumes. A job never stored unregisters it at its first tick.
        _recovery = await this.RegisterOrUpdateReminder(RecoveryReminder, _options.RecoveryReminderPeriod, _options.RecoveryReminderPeriod);
        try
        {
            await _state.WriteStateAsync();
        }
        catch
        {
            _state.State = new OptimizationGrainState(); // nothing was stored: the reminder finds no job and goes away
            _plan = null;
            _strategies = null;
            throw;
        }

        if (!await Admit())
        {
            throw new IllegalOptimizationMoveException(S.State, "submit");
        }

        return Status();
    }

    /// <summary>
    /// The rest of a submission once the job's state is stored as created: the optimizations row (false when the row
    /// is there already), queued, the first batches. Submit calls it, and the recovery reminder calls it again for a job
    /// whose silo died before it was queued (the row then may or may not be there).
    /// </summary>
    private async Task<bool> Admit(bool recovering = false)
    {
        var created = await _store.CreateAsync(new OptimizationRecord(Id, S.Owner, S.Name, S.ConfigJson!,
            OptimizationLifecycle.Word(OptimizationState.Created), (int)S.Priority, S.PlannedTrials, S.CreatedAt));
        if (!created && !recovering)
        {
            return false;
        }

        await MoveTo(OptimizationState.Queued, $"{S.PlannedTrials} trial(s) planned, {S.BatchTrials} a batch{(S.BatchCpus is { } cpus ? $", {cpus.ToString(CultureInfo.InvariantCulture)} CPU(s) each" : "")}");
        StartProgressTimer();
        await FillBatches();
        return true;
    }

    public Task<OptimizationStatus> GetStatus()
    {
        EnsureExists();
        return Task.FromResult(Status());
    }

    public async Task<OptimizationStatus> Pause()
    {
        EnsureExists();
        if (S.State is not (OptimizationState.Queued or OptimizationState.Running))
        {
            throw new IllegalOptimizationMoveException(S.State, "pause");
        }

        await MoveTo(OptimizationState.Paused, "paused by request: running batches finish their current trial and stop");
        await StopBatches(cancel: false);
        return Status();
    }

    public async Task<OptimizationStatus> Resume()
    {
        EnsureExists();
        if (S.State != OptimizationState.Paused)
        {
            throw new IllegalOptimizationMoveException(S.State, "resume");
        }

        await MoveTo(S.StartedAt is null ? OptimizationState.Queued : OptimizationState.Running, "resumed by request");
        foreach (var record in S.Batches.ToList())
        {
            if (!OptimizationBatchReport.IsTerminal(record.State) && record.State != OptimizationBatchState.None)
            {
                Apply(await Batch(record.Number).Resume());
            }
        }

        await FillBatches();
        return Status();
    }

    public async Task<OptimizationStatus> Cancel()
    {
        EnsureExists();
        if (OptimizationLifecycle.IsTerminal(S.State))
        {
            throw new IllegalOptimizationMoveException(S.State, "cancel");
        }

        await StopBatches(cancel: true);
        await Resync();
        await MoveTo(OptimizationState.Cancelled, "cancelled by request; the trials stored so far are kept");
        return Status();
    }

    public async Task Delete()
    {
        EnsureExists();
        if (!OptimizationLifecycle.IsTerminal(S.State))
        {
            await StopBatches(cancel: true);
            await MoveTo(OptimizationState.Cancelled, "cancelled because the job was deleted");
        }

        foreach (var record in S.Batches)
        {
            await Batch(record.Number).Forget();
        }

        await _store.DeleteAsync(Id);
        await UnregisterRecovery();
        StopProgressTimer();
        await _state.ClearStateAsync();
        S.Deleted = true;
        DeactivateOnIdle();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!Exists || OptimizationLifecycle.IsTerminal(S.State))
        {
            await UnregisterRecovery();
            return;
        }

        if (S.State == OptimizationState.Paused)
        {
            return; // paused batches keep their folders; Resume queues them
        }

        if (S.State == OptimizationState.Created)
        {
            // Stored, but its silo died before the job was queued: finish the submission.
            LogResumingSubmission(Id);
            await Admit(recovering: true);
            return;
        }

        // A batch whose silo died restarts from its checkpoint; a queue entry lost comes back.
        foreach (var record in S.Batches.ToList())
        {
            if (record.State is OptimizationBatchState.Queued or OptimizationBatchState.Running)
            {
                Apply(await Batch(record.Number).Ensure());
            }
        }

        await FillBatches();
    }

    // ---- Shared ---------------------------------------------------------------------------------------

    private OptimizationPlan Plan => _plan ??= Revalidate();

    /// <summary>
    /// The stored job's plan, validated again (a recovered activation); a job that no longer validates cannot go on. Its
    /// dates were judged against the cluster's maximum duration when it was admitted and are not judged again, so a limit
    /// lowered since then does not fail a job already running.
    /// </summary>
    private OptimizationPlan Revalidate()
    {
        var config = JsonSerializer.Deserialize<OptimizationConfig>(S.ConfigJson!, JsonDefaults.Options)!;
        var strategies = S.StrategyId is null ? _templates
            : _strategies ?? throw new InvalidOperationException($"the job's custom strategy (version {S.StrategyVersion}) no longer exists");
        var (errors, plan) = OptimizationValidator.Validate(config, _data, strategies, ValidationPolicy.Local, DateOnly.FromDateTime(DateTime.UtcNow));
        return plan ?? throw new InvalidOperationException(
            "the stored job no longer validates: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
    }

    private IOptimizationBatchGrain Batch(int number) => GrainFactory.GetGrain<IOptimizationBatchGrain>(OptimizationBatchIds.Of(Id, number));

    private TimeSpan RunningTime => S.RunningTime + (_runningSince?.Elapsed ?? TimeSpan.Zero);

    /// <summary>
    /// Moves the job, persisting the grain state and then the optimizations row before anyone is told; then publishes
    /// the progress (and, at the end, the completion).
    /// </summary>
    private async Task MoveTo(OptimizationState state, string? detail)
    {
        if (!OptimizationLifecycle.CanMove(S.State, state))
        {
            throw new IllegalOptimizationMoveException(S.State, $"move to {OptimizationLifecycle.Word(state)}");
        }

        var now = DateTime.UtcNow;
        if (_runningSince is { } since)
        {
            S.RunningTime += since.Elapsed;
            _runningSince = null;
        }

        S.State = state;
        S.UpdatedAt = now;
        S.History.Add(new OptimizationStateChange(state, now, detail));
        if (state == OptimizationState.Running)
        {
            S.StartedAt ??= now;
            _runningSince = Stopwatch.StartNew();
        }

        var terminal = OptimizationLifecycle.IsTerminal(state);
        if (terminal)
        {
            S.CompletedAt = now;
        }

        await _state.WriteStateAsync();
        _dirty = false;
        await _store.SetStatusAsync(Id, OptimizationLifecycle.Word(state), S.ErrorMessage, S.StartedAt, S.CompletedAt);
        LogMoved(Id, state, detail);
        await Publish(OptimizationEvents.Progress(Status()));
        if (terminal)
        {
            StopProgressTimer();
            await ReleaseSlots();
            await Publish(OptimizationEvents.Complete(Status()));
            await UnregisterRecovery();
        }
    }

    /// <summary>
    /// Frees any slot a batch of the ended job still holds. Each batch releases its own when it ends; a release lost with
    /// a silo that went away at that moment would otherwise hold the slot until its lease expired. Harmless when free.
    /// </summary>
    private async Task ReleaseSlots()
    {
        var queue = GrainFactory.GetGrain<IBacktestQueueGrain>(0);
        await Task.WhenAll(S.Batches.Select(b => queue.Release(OptimizationBatchIds.Of(Id, b.Number))));
    }

    /// <summary>Counts and best from the stored trials: the truth, whatever reports were lost.</summary>
    private async Task Resync()
    {
        var all = await _store.TrialsAsync(Id, new TrialQuery(PageSize: 1));
        var feasible = await _store.TrialsAsync(Id, new TrialQuery(Feasible: true, PageSize: 1));
        var top = await _store.TrialsAsync(Id, new TrialQuery(Descending: Plan.Rules.Objective.Maximize, Feasible: true, PageSize: 1));
        S.TrialsCompleted = all.TotalCount;
        S.TrialsFeasible = feasible.TotalCount;
        S.Best = top.Items is [{ Objective: { } objective } best]
            ? new OptimizationBest(best.TrialNumber, best.ParametersJson, best.MetricsJson, objective)
            : null;
        _dirty = true;
    }

    private void StartProgressTimer() =>
        _progressTimer ??= this.RegisterGrainTimer(OnProgressTick,
            new GrainTimerCreationOptions(_options.Optimization.ProgressInterval, _options.Optimization.ProgressInterval) { KeepAlive = true });

    private void StopProgressTimer()
    {
        _progressTimer?.Dispose();
        _progressTimer = null;
    }

    /// <summary>About once a second while the job runs: its progress on the stream, and its counts persisted when they changed.</summary>
    private async Task OnProgressTick(CancellationToken cancellation)
    {
        if (!Exists || OptimizationLifecycle.IsTerminal(S.State))
        {
            return;
        }

        if (_dirty)
        {
            if (_runningSince is { } since)
            {
                S.RunningTime += since.Elapsed;
                since.Restart();
            }

            await _state.WriteStateAsync(CancellationToken.None);
            _dirty = false;
        }

        if (S.State is OptimizationState.Running or OptimizationState.Queued)
        {
            await Publish(OptimizationEvents.Progress(Status()));
        }
    }

    private Task Publish(OptimizationEvent e) => _events?.PublishAsync(e) ?? Task.CompletedTask;

    private async Task UnregisterRecovery()
    {
        if ((_recovery ?? await this.GetReminder(RecoveryReminder)) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        _recovery = null;
    }

    private void EnsureExists()
    {
        if (!Exists)
        {
            throw new KeyNotFoundException($"optimization {Id} does not exist");
        }
    }

    private OptimizationStatus Status()
    {
        var terminal = OptimizationLifecycle.IsTerminal(S.State);
        var planned = (int)Math.Ceiling(S.PlannedTrials / (double)Math.Max(1, S.BatchTrials));
        var batches = new OptimizationBatchCounts(
            S.Batches.Count(b => b.State == OptimizationBatchState.Running),
            S.Batches.Count(b => b.State is OptimizationBatchState.Queued or OptimizationBatchState.None),
            S.Batches.Count(b => b.State == OptimizationBatchState.Completed),
            Math.Max(S.Batches.Count, planned));
        return new OptimizationStatus(Id, S.State, S.Owner, S.Priority, S.Name, S.Strategy, S.Method, S.CreatedAt, S.UpdatedAt, S.StartedAt,
            S.CompletedAt, S.ErrorMessage, OptimizationTally.Progress(S.TrialsCompleted, S.PlannedTrials, S.TrialsFeasible, RunningTime, terminal),
            S.Best, batches, S.History.ToList(), S.ObjectiveMetric, S.ObjectiveDirection, S.ConfigJson ?? "{}");
    }
}
