using System.Diagnostics;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Admission;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Protocol;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using Backtesting.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Backtesting.Grains;

/// <summary>What a batch grain persists: its order, its state, its runs.</summary>
[GenerateSerializer, Alias("optimization.batch-grain-state")]
public sealed class OptimizationBatchGrainState
{
    [Id(0)] public OptimizationBatchOrder? Order { get; set; }
    [Id(1)] public OptimizationBatchState State { get; set; }
    [Id(2)] public long Version { get; set; }
    /// <summary>Runs of the worker so far.</summary>
    [Id(3)] public int Attempts { get; set; }
    /// <summary>The state the job asked the running batch to stop in.</summary>
    [Id(4)] public OptimizationBatchState? StopAs { get; set; }
    [Id(5)] public string? Error { get; set; }
    [Id(6)] public int DroppedLines { get; set; }
    /// <summary>The folder the batch's runs share (a container left by a dead silo may name another).</summary>
    [Id(7)] public string? RunDirectory { get; set; }
    /// <summary>Runs started over from an empty checkpoint because trials the worker finished were never stored (<see cref="BatchEndRule"/>).</summary>
    [Id(8)] public int FreshRuns { get; set; }
}

/// <summary>
/// One batch of an optimization job. It waits for a slot of the cluster's queue like a backtest, renews its lease while
/// its worker runs, and runs <c>worker optimize-batch</c> through the cluster's runner (in-process, process or Docker,
/// under the same sandbox as a backtest). It reads the worker's lines as hostile input (<see cref="BatchLineReader"/>),
/// stores the finished trials in batches with their daily returns from trial-returns.bin, each trial once, and tells its
/// job (one way). When the run ends, <see cref="BatchEndRule"/> decides: completed, paused, cancelled, failed, or another
/// run over the same folder, where the worker skips the trials its checkpoint holds.
/// <para>Placed at random over the silos: its worker runs where it lives, and the default placement would put every
/// batch of a job on the silo of the job's grain (which activates them), so one job would use one host.</para>
/// </summary>
[Orleans.Placement.RandomPlacement]
public sealed partial class OptimizationBatchGrain : Grain, IOptimizationBatchGrain
{
    private readonly IPersistentState<OptimizationBatchGrainState> _state;
    private readonly PostgresOptimizationStore _store;
    private readonly IBacktestRunner _runner;
    private readonly IMarketDataProvider _data;
    private readonly StrategyCatalog _strategies;
    private readonly StrategyResolver _resolver;
    private readonly BacktestClusterOptions _options;
    private readonly ILocalSiloDetails _silo;
    private readonly ILogger<OptimizationBatchGrain> _log;
    private IRunHandle? _run;
    private Task? _supervision;
    private bool _starting;
    /// <summary>The activation is going away: its run was stopped, and nothing of this activation touches the state any more.</summary>
    private bool _detached;
    private IGrainTimer? _tick;
    /// <summary>The trials of the batch stored so far (read from the store at each run's start).</summary>
    private HashSet<int> _stored = [];
    private readonly List<TrialRow> _pending = [];
    /// <summary>The batch's trial numbers.</summary>
    private HashSet<int> _trials = [];
    /// <summary>Returns read from trial-returns.bin not stored yet, by trial; and where the next read starts.</summary>
    private readonly Dictionary<int, float[]> _returns = [];
    private long _returnsOffset;
    /// <summary>The silo's own watch over a custom strategy's run (null for templates), on <see cref="_clock"/>.</summary>
    private SiloWatchdog? _watchdog;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    /// <summary>Why the silo's watchdog ended the run, or null.</summary>
    private string? _stalled;
    /// <summary>Retries the batch's recovery while PostgreSQL or the runner is away (<see cref="RecoverSoon"/>).</summary>
    private IGrainTimer? _recoverSoon;
    /// <summary>How long the cluster has been unreachable in an unbroken run of such faults (its grace bounds the wait).</summary>
    private readonly UnreachableWait _unreachable;
    /// <summary>No write of trials is tried before this time: the last one met the database away.</summary>
    private TimeSpan _saveRetryAt;

    /// <summary>How often work interrupted by the database going away is tried again.</summary>
    private static readonly TimeSpan DatabaseRetryPeriod = TimeSpan.FromSeconds(3);

    public OptimizationBatchGrain(
        [PersistentState("optimization-batch", "Default")] IPersistentState<OptimizationBatchGrainState> state,
        PostgresOptimizationStore store,
        IBacktestRunner runner,
        IMarketDataProvider data,
        StrategyCatalog strategies,
        IStrategyStore strategyStore,
        IOptions<BacktestClusterOptions> options,
        ILocalSiloDetails silo,
        ILogger<OptimizationBatchGrain> log)
    {
        _state = state;
        _store = store;
        _runner = runner;
        _data = data;
        _strategies = strategies;
        _resolver = new StrategyResolver(strategies, strategyStore);
        _options = options.Value;
        _unreachable = new UnreachableWait(_options.ClusterUnreachableGrace);
        _silo = silo;
        _log = log;
    }

    private OptimizationBatchGrainState S => _state.State;
    private Guid Id => this.GetPrimaryKey();
    private IBacktestQueueGrain Queue => GrainFactory.GetGrain<IBacktestQueueGrain>(0);
    private IOptimizationJobCallbacks Job => GrainFactory.GetGrain<IOptimizationJobCallbacks>(S.Order!.OptimizationId);
    private string SiloName => _silo.SiloAddress.ToParsableString();
    private bool HasRun => _run is not null || _starting;

    /// <summary>
    /// The silo is going away with a run in flight: the run is stopped between trials (its finished trials are stored),
    /// and the batch stays running in its state, so the next activation (the job's recovery reminder asks) goes on from
    /// the checkpoint. Two workers never share the folder.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_run is { } run && _supervision is { } supervision)
        {
            _detached = true;
            try
            {
                await run.StopAsync(_options.Optimization.StopGrace).WaitAsync(cancellationToken);
                await supervision.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The silo would not wait longer; a container is found and followed again by the next activation.
            }
        }
    }

    private OptimizationBatchReport Report() =>
        new(S.Order?.Batch ?? -1, S.State, S.Version, S.Error, S.DroppedLines, S.Attempts);

    public async Task<OptimizationBatchReport> Start(OptimizationBatchOrder order)
    {
        if (S.Order is not null)
        {
            return Report();
        }

        S.Order = order;
        S.RunDirectory = Path.Combine(_options.WorkDirectory, "optimization-" + order.OptimizationId.ToString("N"), "batch-" + order.Batch);
        await MoveTo(OptimizationBatchState.Queued, tell: false);
        await Queue.Enqueue(Id, order.Owner, order.Priority, QueueItemKind.OptimizationBatch);
        return Report();
    }

    public async Task OnSlotGranted()
    {
        if (S.Order is null || S.State is not (OptimizationBatchState.Queued or OptimizationBatchState.Running))
        {
            await Queue.Release(Id);
            return;
        }

        // A grant may come again (the queue announces one no silo took up once more) or late: only a slot the queue
        // says is this batch's may start a run.
        if (!HasRun && await Queue.Renew(Id, SiloName))
        {
            try
            {
                await StartRun();
            }
            catch (Exception e) when (DatabaseFaults.IsUnavailable(e))
            {
                // The slot is this batch's; its run starts once the database answers.
                LogSupervisionInterruptedByDatabase(e, Id);
                RecoverSoon(InterruptedByDatabase);
            }
            catch (Exception e) when (RunInterruptions.Of(e) is { } interruption)
            {
                // The queue's silo could not be reached as the run was about to start (no run started): taken up again
                // soon, timed as any unreachable cluster is.
                _unreachable.Interruption(e, DateTime.UtcNow);
                LogSupervisionInterrupted(e, Id, RunInterruptions.Describe(interruption));
                RecoverSoon(RunInterruptions.Describe(interruption));
            }
        }
    }

    public async Task<OptimizationBatchReport> Stop(bool cancel)
    {
        if (S.Order is null || OptimizationBatchReport.IsTerminal(S.State))
        {
            return Report();
        }

        var target = cancel ? OptimizationBatchState.Cancelled : OptimizationBatchState.Paused;
        if (!HasRun)
        {
            if (S.State != target)
            {
                await Queue.Release(Id);
                await MoveTo(target);
            }

            return Report();
        }

        S.StopAs = target;
        await _state.WriteStateAsync();
        while (_starting)
        {
            await Task.Delay(50);
        }

        if (_run is { } run && _supervision is { } supervision)
        {
            // The worker stops between trials: the one running finishes and is stored.
            await run.StopAsync(_options.Optimization.StopGrace);
            await supervision;
        }

        return Report();
    }

    public async Task<OptimizationBatchReport> Resume()
    {
        if (S.Order is { } order && S.State == OptimizationBatchState.Paused)
        {
            await MoveTo(OptimizationBatchState.Queued);
            await Queue.Enqueue(Id, order.Owner, order.Priority, QueueItemKind.OptimizationBatch);
        }

        return Report();
    }

    public async Task<OptimizationBatchReport> Ensure()
    {
        if (S.Order is not { } order || HasRun)
        {
            return Report();
        }

        if (S.State == OptimizationBatchState.Queued)
        {
            // Harmless when queued already; a lost entry comes back.
            await Queue.Enqueue(Id, order.Owner, order.Priority, QueueItemKind.OptimizationBatch);
        }
        else if (S.State == OptimizationBatchState.Running)
        {
            // The state says a worker runs, but not here: the silo that ran it died, or the cluster interrupted it.
            if (_interruption is { } interruption)
            {
                LogRunInterruptedRestart(Id, order.OptimizationId, order.Batch, interruption);
            }
            else
            {
                LogRunLost(Id, order.OptimizationId, order.Batch);
            }

            if (await Queue.Renew(Id, SiloName))
            {
                await StartRun();
            }
            else
            {
                await MoveTo(OptimizationBatchState.Queued);
                await Queue.Enqueue(Id, order.Owner, order.Priority, QueueItemKind.OptimizationBatch);
            }
        }

        return Report();
    }

    public async Task Forget()
    {
        if (S.Order is null)
        {
            return;
        }

        await Stop(cancel: true);
        await Queue.Release(Id);
        DeleteRunDirectory();
        await _state.ClearStateAsync();
        DeactivateOnIdle();
    }

    // ---- The run ------------------------------------------------------------------------------------------

    private async Task StartRun()
    {
        _starting = true;
        var counted = false;
        try
        {
            var order = S.Order!;
            var stopAs = S.StopAs;
            S.Attempts++;
            S.StopAs = null;
            try
            {
                await MoveTo(OptimizationBatchState.Running);
                counted = true;
            }
            catch
            {
                (S.Attempts, S.StopAs) = (S.Attempts - 1, stopAs);
                throw;
            }

            // A custom strategy: the pinned version's source, read again for each run (on whatever silo), and its schema.
            var strategies = _strategies;
            string? source = null;
            if (order.StrategyId is { } strategyId && order.StrategyVersion is { } version)
            {
                if (await _resolver.VersionAsync(order.Owner, strategyId, version) is not { Custom: { } stored } admitted)
                {
                    await End(OptimizationBatchState.Failed, $"version {version} of the job's custom strategy no longer exists");
                    return;
                }

                (strategies, source) = (admitted.Strategies, stored.Source);
            }

            var (batch, parseErrors) = OptimizationBatchValidator.Parse(order.BatchJson);
            var (errors, plan) = batch is null
                ? (parseErrors, null)
                : OptimizationBatchValidator.Validate(batch, _data, strategies, DateOnly.FromDateTime(DateTime.UtcNow));
            if (plan is null || batch is null)
            {
                await End(OptimizationBatchState.Failed, "the batch is invalid: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
                return;
            }

            var trials = batch.Trials.ToDictionary(t => t.Trial, t => t.Parameters);
            _trials = [.. trials.Keys];
            _stored = (await _store.TrialNumbersAsync(order.OptimizationId)).Where(trials.ContainsKey).ToHashSet();
            _pending.Clear();
            _returns.Clear();
            _returnsOffset = 0;
            if (_stored.Count == trials.Count)
            {
                // Every trial was stored by an earlier run whose end was lost with its silo.
                await End(OptimizationBatchState.Completed, null);
                return;
            }

            // A custom strategy is compiled once for every batch of the version on this worker (a compile-only run), not by
            // each batch's worker; the worker verifies what it is handed before loading it.
            var precompiled = source is null ? null : await Precompiled(order);
            if (precompiled is { Refused: true })
            {
                await End(OptimizationBatchState.Failed, precompiled.Error);
                return;
            }

            var request = new RunRequest(Id, S.Attempts, JsonSerializer.Serialize(batch.Config.BaseConfig, JsonDefaults.Options),
                S.RunDirectory!, _data is LeanDataProvider lean ? lean.DataRoot : DataRoot.Locate(_options.DataDirectory) ?? "",
                Resume: false, _options.CheckpointInterval, StrategySource: source, MaxLineBytes: _options.MaxProtocolLineBytes,
                // A trial of uploaded code may run at most the stall limit: the worker records it as failed and ends its run.
                StallTimeout: source is null ? null : _options.StallTimeout, BatchJson: order.BatchJson, Cpus: order.Cpus,
                StrategyAssembly: precompiled is { Assembly: { } assembly, CompileResultJson: { } compileJson } ? new CompiledStrategyFiles(assembly, compileJson) : null);
            // The slot is renewed (and its silo recorded) before the run starts, not after: a renewal the cluster cuts
            // short then leaves no run behind, where after a start it left a worker running that nothing supervised.
            await Queue.Renew(Id, SiloName);
            IRunHandle run;
            try
            {
                run = await _runner.StartAsync(request, CancellationToken.None);
            }
            catch (RunnerInterruptedException e)
            {
                // The runner's daemon is restarting: not the batch's fault. This attempt never ran and does not count; the
                // batch stays running with no run and starts again once the runner answers (a try every few seconds).
                LogRunnerInterrupted(Id, order.OptimizationId, e.Message);
                S.Attempts--;
                counted = false;
                RecoverSoon(RunInterruptions.Describe(RunEndRule.RunnerInterruptedOutcome));
                await _state.WriteStateAsync();
                return;
            }
            catch (Exception e) when (e is RunnerUnavailableException or CustomStrategyRefusedException)
            {
                LogRunnerUnavailable(Id, order.OptimizationId, e.Message);
                await End(OptimizationBatchState.Failed, e.Message);
                return;
            }

            _run = run;
            _stalled = null;
            // The silo's own limit holds even if the worker's does not: past the worker's trial limit and a grace, silence ends the run.
            _watchdog = source is null ? null : new SiloWatchdog(_options.StallTimeout + _options.StopGrace, _options.CompileTimeout);
            _watchdog?.Started(_clock.Elapsed);
            var folder = run.ReattachedOutputDirectory ?? request.OutputDirectory;
            // The tick renews the slot and keeps the activation alive while the run lasts (reading lines is no call).
            _tick ??= this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions(_options.SupervisionTick, _options.SupervisionTick)
            {
                Interleave = true,
                KeepAlive = true,
            });
            _supervision = Supervise(run, folder, new BatchLineReader(order.OptimizationId, order.Batch, trials, plan.Rules), trials.Count);
        }
        catch (Exception e) when (counted && _run is null && RunInterruptions.Of(e) is not null)
        {
            // The database went away, or the queue's silo could not be reached, before the run started: not a run of the
            // batch (the next start counts).
            S.Attempts--;
            throw;
        }
        finally
        {
            _starting = false;
        }
    }

    /// <summary>
    /// The job's custom strategy compiled once for this silo's worker (<see cref="StrategyAssemblyGrain"/>), or null when the
    /// runner runs no custom strategies (it refuses the run itself) or no compile can be had now: the worker then compiles
    /// the source itself, as every batch did before.
    /// </summary>
    private async Task<StrategyAssemblyResult?> Precompiled(OptimizationBatchOrder order)
    {
        try
        {
            if (await _runner.WorkerVersionAsync(CancellationToken.None) is not { } workerVersion)
            {
                return null;
            }

            var key = StrategyAssemblyGrain.Key(order.StrategyId!.Value, order.StrategyVersion!.Value, workerVersion);
            var obtained = await GrainFactory.GetGrain<IStrategyAssemblyGrain>(key)
                .Obtain(order.Owner, order.StrategyId.Value, order.StrategyVersion.Value, workerVersion);
            if (obtained.Assembly is null && !obtained.Refused)
            {
                LogNotPrecompiled(Id, obtained.Error ?? "no compile");
            }

            return obtained;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !DatabaseFaults.IsUnavailable(e))
        {
            LogNotPrecompiled(Id, e.GetBaseException().Message);
            return null;
        }
    }

    private async Task OnTick(CancellationToken cancellation)
    {
        if (_run is { } run)
        {
            await Queue.Renew(Id, SiloName);
            _unreachable.Answered();
            if (_stalled is null && _watchdog?.Check(_clock.Elapsed, TimeSpan.Zero, TimeSpan.MaxValue) is { } reason)
            {
                _stalled = reason;
                LogStalled(Id, reason);
                await run.StopAsync(_options.StopGrace);
            }
        }
    }

    /// <summary>Reads the run's lines until it ends, storing trials as they come (continuations run on this grain's scheduler).</summary>
    private async Task Supervise(IRunHandle run, string folder, BatchLineReader reader, int trialCount)
    {
        string? protocolError = null;
        string? workerError = null;
        var sinceSave = Stopwatch.StartNew();
        try
        {
            try
            {
                while (await run.Lines.WaitToReadAsync())
                {
                    while (run.Lines.TryRead(out var line))
                    {
                        _watchdog?.Line(_clock.Elapsed);
                        var dropped = reader.Dropped;
                        switch (reader.Read(line))
                        {
                            case BatchLine.Trial trial when !_stored.Contains(trial.Row.TrialNumber) && _pending.All(p => p.TrialNumber != trial.Row.TrialNumber):
                                _pending.Add(trial.Row);
                                break;
                            case BatchLine.Error error:
                                workerError = error.Data.ErrorMessage;
                                break;
                            case null when dropped == 0:
                                LogLineDropped(Id, reader.LastRejection);
                                break;
                        }

                        if (_pending.Count >= _options.Optimization.SaveTrials && _clock.Elapsed >= _saveRetryAt)
                        {
                            await SaveWhileRunning(folder);
                            sinceSave.Restart();
                        }
                    }

                    if (sinceSave.Elapsed >= _options.Optimization.SaveInterval && _clock.Elapsed >= _saveRetryAt)
                    {
                        await SaveWhileRunning(folder);
                        sinceSave.Restart();
                    }
                }
            }
            catch (WorkerProtocolException e)
            {
                protocolError = e.Message;
                LogProtocolBroken(Id, e.Message);
                await run.StopAsync(_options.StopGrace);
            }

            var exit = await run.Exit;
            await SaveOnceTheDatabaseAnswers(folder);
            await run.DisposeAsync();
            _run = null;
            if (S.Order is null || _detached)
            {
                return; // forgotten while it ran, or left for the next activation
            }

            S.DroppedLines += reader.Dropped;

            var end = BatchEndRule.Decide(exit.ExitCode, S.StopAs, protocolError ?? _stalled, workerError ?? exit.Fatal, trialCount - _stored.Count,
                S.Attempts, S.FreshRuns, _options.MaxAttempts, exit.Interrupted);
            if (end.Retry)
            {
                if (end.Uncounted)
                {
                    // Lost by the runner (its daemon went away), not a death of the batch's worker: the next run takes its place.
                    LogRunInterruptedRestart(Id, S.Order.OptimizationId, S.Order.Batch, exit.Detail ?? "the runner lost the run");
                    S.Attempts--;
                }
                else if (end.Fresh)
                {
                    LogFreshRun(Id, S.Order.OptimizationId, S.Order.Batch, trialCount - _stored.Count);
                    DeleteCheckpoint(folder);
                    S.FreshRuns++;
                }
                else
                {
                    LogRetry(Id, S.Order.OptimizationId, S.Order.Batch, exit.ExitCode, S.Attempts);
                }

                await StartRun();
                return;
            }

            await End(end.Next!.Value, end.Error);
        }
        catch (KeyNotFoundException)
        {
            // The job was deleted while the batch ran: nothing of it may be stored any more.
            _run = null;
            await run.DisposeAsync();
        }
        catch (Exception e) when (RunInterruptions.Of(e) is { } interruption)
        {
            // Timed from here if the cluster is unreachable: the recovery gives up once it stays so past the grace.
            _unreachable.Interruption(e, DateTime.UtcNow);
            // PostgreSQL went away while the run was wound up (its state or the queue's could not be written), or the queue
            // grain's silo could not be reached (its release, say): not the batch's fault, so never a reason to fail its job.
            // The state stays as last stored (running), the run's trials are stored, and the batch is taken up again as a
            // lost run once the cluster answers: every trial stored, it completes without running anything again; an
            // ended batch whose slot could not be given back gives it back then.
            LogSupervisionInterrupted(e, Id, RunInterruptions.Describe(interruption));
            _run = null;
            await run.DisposeAsync();
            if (S.Order is not null && !_detached)
            {
                RecoverSoon(RunInterruptions.Describe(interruption));
            }
        }
        catch (Exception e)
        {
            LogSupervisionFailed(e, Id);
            _run = null;
            await run.DisposeAsync();
            if (S.Order is not null && !_detached)
            {
                await End(OptimizationBatchState.Failed, $"supervising the batch failed: {e.GetBaseException().Message}");
            }
        }
    }

    /// <summary>A write of trials while the worker runs: with the database away they stay pending and are written later.</summary>
    private async Task SaveWhileRunning(string folder)
    {
        try
        {
            await Save(folder);
        }
        catch (Exception e) when (DatabaseFaults.IsUnavailable(e))
        {
            LogTrialsNotStoredYet(Id, _pending.Count, e.GetBaseException().Message);
            _saveRetryAt = _clock.Elapsed + DatabaseRetryPeriod;
        }
    }

    /// <summary>The write after the run's end: the trials it finished are not lost to a database restart, so it is tried until it holds.</summary>
    private async Task SaveOnceTheDatabaseAnswers(string folder)
    {
        while (true)
        {
            try
            {
                await Save(folder);
                return;
            }
            catch (Exception e) when (DatabaseFaults.IsUnavailable(e) && S.Order is not null && !_detached)
            {
                LogTrialsNotStoredYet(Id, _pending.Count, e.GetBaseException().Message);
                await Task.Delay(DatabaseRetryPeriod);
            }
        }
    }

    /// <summary>
    /// Takes up a batch whose supervision the database interrupted, or whose run could not start while the runner's daemon
    /// restarted (<see cref="RunnerInterruptedException"/>), every few seconds until it holds: a state still running
    /// starts its run again (<see cref="Ensure"/>), a granted one that could not start starts, an ended one gives its slot
    /// back. The job's reminder is the safety net.
    /// </summary>
    private static readonly string InterruptedByDatabase = RunInterruptions.Describe(RunEndRule.DatabaseUnavailableOutcome);

    /// <summary>Why the run was last interrupted by the cluster, while it is taken up again (null: its silo was lost).</summary>
    private string? _interruption;

    private void RecoverSoon(string interruption)
    {
        _interruption = interruption;
        _recoverSoon ??= this.RegisterGrainTimer(async () =>
        {
            if (S.Order is null || HasRun || _detached)
            {
                StopRecovering();
                return;
            }

            try
            {
                switch (S.State)
                {
                    case OptimizationBatchState.Running:
                        await Ensure();
                        break;
                    case OptimizationBatchState.Queued:
                        // Granted a slot it could not start on: started while the slot is still its own (else it waits in the queue).
                        if (await Queue.Renew(Id, SiloName))
                        {
                            await StartRun();
                        }

                        break;
                    default:
                        await Queue.Release(Id);
                        break;
                }

                // The step held: the cluster answered.
                _unreachable.Answered();
                if (HasRun || S.State != OptimizationBatchState.Running)
                {
                    StopRecovering();
                }
            }
            catch (Exception e)
            {
                LogRecoveryRetryFailed(e, Id);
                if (_unreachable.GivesUp(e, DateTime.UtcNow) && !HasRun && S.State is OptimizationBatchState.Running or OptimizationBatchState.Queued)
                {
                    // Unreachable past the grace, with a run still to have: the batch gives up (and its job with it).
                    await GiveUpUnreachable(e);
                }
            }
        }, new GrainTimerCreationOptions(DatabaseRetryPeriod, DatabaseRetryPeriod) { KeepAlive = true });
    }

    /// <summary>
    /// The cluster could not be reached for longer than its grace: the batch fails, saying so, and its job with it
    /// (<see cref="Optimization.JobEndRule"/>: a failed batch fails its job). A slot that could not be given back is given
    /// back by the next retry; a state that could not be stored stays as it was, and the next retry gives up again.
    /// </summary>
    private async Task GiveUpUnreachable(Exception e)
    {
        LogGaveUpUnreachable(e, Id, _unreachable.Grace);
        try
        {
            await End(OptimizationBatchState.Failed, _unreachable.GiveUpReason(e));
        }
        catch (Exception failed)
        {
            LogRecoveryRetryFailed(failed, Id);
        }
    }

    private void StopRecovering()
    {
        _interruption = null;
        _recoverSoon?.Dispose();
        _recoverSoon = null;
    }

    /// <summary>
    /// Stores the pending trials in one write, each with its daily returns (a trial's returns reach trial-returns.bin before
    /// its line is printed), then tells the job which were new. Rows stored before (a run killed after a trial's line and
    /// before its checkpoint prints it again) are never stored twice.
    /// </summary>
    private async Task Save(string folder)
    {
        if (_pending.Count == 0)
        {
            return;
        }

        ReadReturns(folder);
        var rows = _pending.Select(row => row with { DailyReturns = _returns.TryGetValue(row.TrialNumber, out var r) ? r : null }).ToList();
        await _store.SaveTrialsAsync(S.Order!.OptimizationId, rows);
        _pending.Clear();
        foreach (var row in rows)
        {
            _returns.Remove(row.TrialNumber);
        }

        _stored.UnionWith(rows.Select(r => r.TrialNumber));
        if (_detached)
        {
            return; // the job re-reads its counts from the stored trials when it activates
        }

        Job.OnTrialsStored(S.Order.Batch, rows.Select(r => new StoredTrial(r.TrialNumber, r.ParametersJson, r.MetricsJson, r.TotalTrades,
            r.Feasible, r.InfeasibleReason, r.Objective, r.ContentHash)).ToList()).Ignore();
    }

    /// <summary>Reads the records of trial-returns.bin written since the last read (a file the worker wrote: never a link).</summary>
    private void ReadReturns(string folder)
    {
        try
        {
            using var stream = AttemptFolder.OpenRead(Path.Combine(folder, OptimizationFiles.TrialReturns));
            if (stream is null)
            {
                return;
            }

            if (_returnsOffset > stream.Length)
            {
                _returnsOffset = 0; // cut back by a new run (records of unfinished trials dropped)
            }

            stream.Position = _returnsOffset;
            foreach (var record in TrialReturns.Read(stream))
            {
                // A record may be read before its trial's line arrives (a container's log lags its files): kept until then.
                _returnsOffset = record.End;
                if (_trials.Contains(record.Trial) && !_stored.Contains(record.Trial))
                {
                    _returns[record.Trial] = record.Returns;
                }
            }
        }
        catch (IOException e)
        {
            // Returns are for the overfitting statistics; a trial without them is still a trial.
            LogReturnsUnreadable(Id, e.Message);
        }
    }

    private async Task End(OptimizationBatchState state, string? error)
    {
        _tick?.Dispose();
        _tick = null;
        S.Error = error;
        await MoveTo(state);
        await Queue.Release(Id);
        if (state is OptimizationBatchState.Completed or OptimizationBatchState.Cancelled)
        {
            DeleteRunDirectory();
        }
    }

    private async Task MoveTo(OptimizationBatchState state, bool tell = true)
    {
        var (before, version) = (S.State, S.Version);
        S.State = state;
        S.Version++;
        try
        {
            await _state.WriteStateAsync();
        }
        catch
        {
            // Not stored, so not so: the state in memory stays the one stored (a database away is retried from it).
            (S.State, S.Version) = (before, version);
            throw;
        }

        if (tell && S.Order is not null)
        {
            Job.OnBatchChanged(Report()).Ignore();
        }
    }

    /// <summary>Removes the checkpoint files, so the next run does every trial again (files in the worker's folder: removed, never followed).</summary>
    private void DeleteCheckpoint(string folder)
    {
        foreach (var file in new[] { OptimizationFiles.TrialsDone, OptimizationFiles.TrialReturns })
        {
            File.Delete(Path.Combine(folder, file));
        }
    }

    private void DeleteRunDirectory()
    {
        try
        {
            if (S.RunDirectory is { } folder && Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogReturnsUnreadable(Id, $"the run folder could not be removed: {e.Message}");
        }
    }
}
