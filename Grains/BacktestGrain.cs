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
using Backtesting.Grains.Protocol;
using Backtesting.Grains.Runners;
using Backtesting.Storage;
using Backtesting.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace Backtesting.Grains;

/// <summary>
/// One backtest. Every transition is checked against <see cref="Lifecycle"/>, persisted (grain state and the
/// backtests row) before it is acknowledged, and kept in the history. A run is supervised by reading the
/// worker's protocol lines from the runner; each line is published on the backtest's stream. A reminder brings
/// the grain back on any silo after a crash, where it restarts the run from the checkpoint kept in PostgreSQL.
/// </summary>
public sealed class BacktestGrain : Grain, IBacktestGrain, IRemindable
{
    private const string RecoveryReminder = "recover";

    private readonly IPersistentState<BacktestGrainState> _state;
    private readonly IBacktestStore _store;
    private readonly IStrategyStore _strategyStore;
    private readonly IBacktestRunner _runner;
    private readonly IMarketDataProvider _data;
    private readonly StrategyCatalog _strategies;
    private readonly BacktestClusterOptions _options;
    private readonly ILogger<BacktestGrain> _log;
    private readonly ILocalSiloDetails _siloDetails;
    private IRunHandle? _run;
    private Task? _supervision;
    private IGrainTimer? _tick;
    private IAsyncStream<BacktestEvent>? _stream;
    /// <summary>Reads the current attempt's lines against the contract (its own id only), counting what it drops.</summary>
    private WorkerLineReader? _lineReader;
    /// <summary>The silo's own stall and timeout watch over the current attempt, on <see cref="_clock"/>.</summary>
    private SiloWatchdog? _watchdog;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private BacktestState? _stopAs;
    private string? _stopReason;
    private Stopwatch? _runningSince;
    private DateTime _lastProgressWrite;
    private bool _progressDirty;
    private string? _lastCheckpointSynced;
    /// <summary>The current run's output folder (a reattached run keeps the one its container writes to).</summary>
    private string? _runDirectory;
    /// <summary>The latest resource sample measured from outside the worker (Docker stats); live only, not persisted.</summary>
    private ResourceUsage? _resources;
    private bool _detached;
    /// <summary>
    /// An attempt is being started: starting a container takes a while, and the supervision loop that starts a
    /// retry interleaves with reminder ticks, which must not take the gap for a lost run and start another.
    /// </summary>
    private bool _attemptStarting;

    private bool _runEnding;
    /// <summary>The move to Running of the current attempt, persisted beside its event stream (null: not yet).</summary>
    private Task? _toRunning;
    private Exception? _toRunningFailure;
    /// <summary>The recovery reminder as this activation registered it (null: not registered here, or gone).</summary>
    private IGrainReminder? _recovery;

    /// <summary>A run exists, is being started, or is being wound up (results saved, a retry decided).</summary>
    private bool HasRun => _run is not null || _attemptStarting || _runEnding;

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
        _runner = runner;
        _data = data;
        _strategies = strategies;
        _options = options.Value;
        _log = log;
    }

    private BacktestGrainState S => _state.State;
    private Guid Id => this.GetPrimaryKey();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = this.GetStreamProvider(StreamNames.Provider)
            .GetStream<BacktestEvent>(StreamId.Create(StreamNames.Namespace, Id));
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The silo is going away with a run in flight: leave the run alone (a container keeps running, and the
        // next activation reattaches to it) and stop this activation's supervision from touching the state.
        _detached = _run is not null;
        return Task.CompletedTask;
    }

    // ---- Requests -------------------------------------------------------------------------------------

    public async Task<BacktestStatus> Submit(BacktestSubmission submission)
    {
        if (S.State != BacktestState.Created || S.Deleted || S.ConfigJson is not null)
        {
            throw new IllegalTransitionException(S.State, "submit");
        }

        var (strategies, custom) = await StrategiesFor(submission);
        var validation = ConfigValidator.Validate(submission.Config, _data, strategies, ValidationPolicy.Service,
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
        S.History.Add(new StateChange(BacktestState.Created, now, null));
        await _state.WriteStateAsync();
        await _store.CreateAsync(new BacktestRecord(Id, S.Owner, submission.Config.StrategyClass, S.ConfigJson,
            validation.Spec!.Start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            validation.Spec.End.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
            Lifecycle.Word(BacktestState.Created), now, null, 0, null, (int)submission.Priority, hash));
        if (custom is not null)
        {
            await _strategyStore.RecordBacktestStrategyAsync(Id, custom.StrategyId, custom.Version);
        }

        await AnnounceOnStream();

        if (submission.UseCache
            && await _store.FindCompletedByContentHashAsync(hash, ResultCache.ReuseScope(S.Owner, custom is not null)) is { } cached
            && cached.Id != Id && await _store.GetResultAsync(cached.Id) is { } result)
        {
            // A copy under this backtest's own id; nothing that follows names the backtest it came from.
            await _store.SaveResultsAsync(Id, result);
            S.FromCache = true;
            S.Summary = SummaryOf(result);
            await MoveTo(BacktestState.Completed, ResultCache.HitReason);
            await Publish(MessageTypes.Complete, new BacktestCompleteData(CompletionStatus.Completed, 0, S.Summary, ResultsUrl, false));
            return Status();
        }

        await MoveTo(BacktestState.Queued, null);
        _recovery = await this.RegisterOrUpdateReminder(RecoveryReminder, _options.RecoveryReminderPeriod, _options.RecoveryReminderPeriod);
        await Queue.Enqueue(Id, S.Owner, S.Priority);
        return Status();
    }

    /// <summary>
    /// The strategies a submission may name: the templates, plus the owner's custom strategy that strategyClass
    /// names (its latest version, or the pinned one), validated through its stored schema without running its
    /// code. Another owner's strategy is never found, so it answers like an unknown one.
    /// </summary>
    private async Task<(StrategyCatalog Strategies, StrategyVersion? Custom)> StrategiesFor(BacktestSubmission submission)
    {
        var name = submission.Config.StrategyClass;
        if (string.IsNullOrWhiteSpace(name) || _strategies.TryGet(name, out _))
        {
            if (submission.StrategyVersion is not null)
            {
                throw new BacktestValidationException([new ValidationError("strategyVersion", "customOnly",
                    "strategyVersion pins a version of a custom strategy; templates have no versions")]);
            }

            return (_strategies, null);
        }

        if (submission.StrategyVersion is < 1)
        {
            throw new BacktestValidationException([new ValidationError("strategyVersion", "min", "strategyVersion must be at least 1")]);
        }

        var version = await _strategyStore.GetByNameAsync(submission.Owner, name, submission.StrategyVersion);
        if (version is null)
        {
            if (submission.StrategyVersion is { } pinned && await _strategyStore.GetByNameAsync(submission.Owner, name) is { } latest)
            {
                throw new BacktestValidationException([new ValidationError("strategyVersion", "unknown",
                    $"strategy '{name}' has no version {pinned} (latest: {latest.Version})")]);
            }

            return (_strategies, null); // the validator reports the unknown strategyClass
        }

        var schema = JsonSerializer.Deserialize<Compiler.StrategySchema>(version.SchemaJson, JsonDefaults.Options)
            ?? throw new InvalidOperationException($"strategy {version.StrategyId} version {version.Version} has no schema");
        return (_strategies.With([schema.ToDescriptor(version.ContentHash)]), version);
    }

    public Task<BacktestStatus> GetStatus()
    {
        EnsureExists();
        return Task.FromResult(Status());
    }

    public async Task<BacktestStatus> Pause()
    {
        EnsureExists();
        if (S.State != BacktestState.Running || _run is null)
        {
            throw new IllegalTransitionException(S.State, "pause");
        }

        await RunnerStep(_run.PauseAsync, "pause");
        _watchdog?.Paused();
        AccumulateRunningTime();
        await MoveTo(BacktestState.Paused, "paused by request; the run keeps its slot");
        return Status();
    }

    public async Task<BacktestStatus> Resume()
    {
        EnsureExists();
        if (S.State != BacktestState.Paused)
        {
            throw new IllegalTransitionException(S.State, "resume");
        }

        if (_run is null)
        {
            // The silo that held the frozen run is gone: continue from the checkpoint, in a slot.
            if (await Queue.Renew(Id, SiloName))
            {
                await StartAttempt("resumed after the paused run was lost");
            }
            else
            {
                await MoveTo(BacktestState.Queued, "resumed after the paused run was lost; waiting for a slot");
                await Queue.Enqueue(Id, S.Owner, S.Priority);
            }

            return Status();
        }

        await RunnerStep(_run.ResumeAsync, "resume");
        _watchdog?.Resumed(_clock.Elapsed);
        _runningSince = Stopwatch.StartNew();
        await MoveTo(BacktestState.Running, "resumed by request");
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
            _log.LogWarning(e, "Backtest {Id}: the runner refused to {Action} the run", Id, action);
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
        await _state.WriteStateAsync();
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

        if (S.State == BacktestState.Queued)
        {
            await StartAttempt(null);
        }
        else if (!Lifecycle.IsActive(S.State) || HasRun)
        {
            // Cancelled while waiting, or already running here: the slot is not needed twice.
            if (!Lifecycle.IsActive(S.State))
            {
                await Queue.Release(Id);
            }
        }
        else
        {
            await StartAttempt("restarted after its run was lost");
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (S.Deleted || Lifecycle.IsTerminal(S.State))
        {
            await UnregisterRecovery();
            return;
        }

        if (S.State == BacktestState.Paused && !HasRun)
        {
            // A paused run lost with its silo stays paused (its checkpoint is kept); Resume restarts it.
            await Queue.Renew(Id, SiloName);
        }
        else if (Lifecycle.IsActive(S.State) && !HasRun)
        {
            // This activation has no run although the state says there is one: the silo that ran it died.
            _log.LogWarning("Backtest {Id} lost its run ({State}); restarting from its checkpoint", Id, S.State);
            if (!await Queue.Renew(Id, SiloName))
            {
                await MoveTo(BacktestState.Queued, "its slot expired while the run was lost; queued again");
                await Queue.Enqueue(Id, S.Owner, S.Priority);
                return;
            }

            await StartAttempt("restarted after its silo was lost");
        }
        else if (S.State == BacktestState.Queued)
        {
            // Harmless if it is already queued: enqueue is idempotent, and a lost queue entry comes back.
            await Queue.Enqueue(Id, S.Owner, S.Priority);
        }
    }

    // ---- The run ---------------------------------------------------------------------------------------

    private IBacktestQueueGrain Queue => GrainFactory.GetGrain<IBacktestQueueGrain>(0);

    private string SiloName => _siloDetails.SiloAddress.ToParsableString();

    private string RunDirectory => Path.Combine(_options.WorkDirectory, Id.ToString("N"), $"attempt-{S.Attempts.Count}");

    private string ResultsUrl => $"/api/v1/nautilus/backtest/results/{Id}";

    private async Task StartAttempt(string? detail)
    {
        if (_attemptStarting)
        {
            return;
        }

        _attemptStarting = true;
        try
        {
            await StartAttemptOnce(detail);
        }
        finally
        {
            _attemptStarting = false;
        }
    }

    private async Task StartAttemptOnce(string? detail)
    {
        // Checkpoints exist only once an attempt has run; the first attempt needs no round trip to look.
        var checkpoint = S.Checkpoint ?? (S.Attempts.Count == 0 ? null : await _store.LoadCheckpointAsync(Id));
        var attempt = S.Attempts.Count + 1;
        var resumeFrom = 0L;
        if (checkpoint is not null)
        {
            resumeFrom = JsonDocument.Parse(checkpoint).RootElement.GetProperty("processedPoints").GetInt64();
        }

        var memory = NextMemoryLimit();
        S.Attempts.Add(new RunAttempt(attempt, _runner.Kind, DateTime.UtcNow, null, null, null, resumeFrom,
            SiloName, null, memory));
        await MoveTo(BacktestState.Starting, detail ?? $"attempt {attempt} on the {_runner.Kind} runner");
        string? strategySource = null;
        if (S.CustomStrategy is { } custom)
        {
            // Read by the recorded version, so a restart on any silo runs exactly the version the backtest was submitted with.
            strategySource = (await _strategyStore.GetAsync(S.Owner, custom.StrategyId, custom.Version))?.Source;
            if (strategySource is null)
            {
                await FailBeforeRun("strategy missing", $"custom strategy {custom.Name} version {custom.Version} is no longer stored");
                return;
            }
        }

        var request = new RunRequest(Id, attempt, S.ConfigJson!, RunDirectory,
            _data is LeanDataProvider lean ? lean.DataRoot : DataRoot.Locate(_options.DataDirectory) ?? "",
            checkpoint is not null, _options.CheckpointInterval, memory, strategySource, _options.MaxProtocolLineBytes,
            _options.TimeoutFor(S.InstrumentCount) - S.RunningTime, _options.StallTimeout);
        if (checkpoint is not null)
        {
            AttemptFolder.Prepare(request.OutputDirectory, owner: null);
            await AttemptFolder.WriteTextAsync(Path.Combine(request.OutputDirectory, WorkerFiles.Checkpoint), checkpoint);
        }

        _stopAs = null;
        _stopReason = null;
        _lineReader = new WorkerLineReader(Id);
        _watchdog = new SiloWatchdog(_options.StallTimeout, strategySource is null ? TimeSpan.Zero : _options.CompileTimeout);
        _toRunning = null;
        _toRunningFailure = null;
        try
        {
            _run = await _runner.StartAsync(request, CancellationToken.None);
        }
        catch (RunnerUnavailableException e)
        {
            // Nothing can run here until an operator acts (a daemon to start, an image to build): fail at once.
            _log.LogError("Backtest {Id} cannot start: {Reason}", Id, e.Message);
            await FailBeforeRun("runner unavailable", e.Message, recoverable: true);
            return;
        }
        catch (CustomStrategyRefusedException e)
        {
            // This cluster's runner may not run untrusted code: no retry would change that.
            _log.LogWarning("Backtest {Id} cannot run its custom strategy: {Reason}", Id, e.Message);
            await FailBeforeRun("custom strategy refused", e.Message);
            return;
        }

        _runDirectory = request.OutputDirectory;
        if (_run.ReattachedOutputDirectory is { } reattached)
        {
            // A container left running by a silo that died: this attempt follows it instead of starting another.
            _runDirectory = reattached;
            request = request with { OutputDirectory = reattached };
        }

        _resources = null;
        var started = S.Attempts[^1] with
        {
            ProcessId = _run.ProcessId,
            Container = _run.Container,
            Reattached = _run.ReattachedOutputDirectory is not null,
        };
        if (started != S.Attempts[^1])
        {
            // What finds the run again after a crash (its process or container); an in-process run has neither.
            S.Attempts[^1] = started;
            await _state.WriteStateAsync();
        }
        await Queue.Renew(Id, SiloName); // the queue learns at once which silo runs it
        _runningSince = Stopwatch.StartNew();
        _watchdog.Started(_clock.Elapsed);
        _lastCheckpointSynced = checkpoint;
        // The tick keeps the activation alive while a run lasts: reading the worker's lines is not an incoming
        // call, and an idle activation would otherwise be collected in the middle of a long run.
        _tick ??= this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions(_options.SupervisionTick, _options.SupervisionTick)
        {
            Interleave = true,
            KeepAlive = true,
        });
        _supervision = Supervise(_run, request);
        if (_run.Resources is { } resources)
        {
            _ = FollowResources(resources);
        }
    }

    /// <summary>The attempt could not start and no retry would help: the backtest fails with the reason.</summary>
    private async Task FailBeforeRun(string outcome, string reason, bool recoverable = false)
    {
        S.Attempts[^1] = S.Attempts[^1] with { EndedAt = DateTime.UtcNow, Outcome = outcome };
        S.Error = new BacktestErrorData(ErrorTypes.Execution, reason, new BacktestErrorDetails(null, null, null, recoverable));
        await Publish(MessageTypes.Error, S.Error);
        await Finish(BacktestState.Failed, reason);
    }

    /// <summary>Keeps the latest resource sample (read on this grain's scheduler; the runner writes from its threads).</summary>
    private async Task FollowResources(System.Threading.Channels.ChannelReader<ResourceUsage> resources)
    {
        await foreach (var sample in resources.ReadAllAsync())
        {
            _resources = sample;
        }
    }

    /// <summary>
    /// The memory limit of the next attempt, where the runner enforces one: the configured one at first, twice the
    /// last one after an out-of-memory kill (never above the cap: the caller fails the backtest past it).
    /// </summary>
    private long? NextMemoryLimit()
    {
        if (_runner.Kind != "docker")
        {
            return null;
        }

        var last = S.Attempts.LastOrDefault(a => a.MemoryLimitBytes is not null);
        if (last?.MemoryLimitBytes is not { } limit)
        {
            return _options.Docker.MemoryBytes;
        }

        return last.Outcome == OutOfMemoryOutcome ? Math.Min(limit * 2, _options.Docker.MaxMemoryBytes) : limit;
    }

    private const string OutOfMemoryOutcome = "out of memory";

    /// <summary>Reads the run's lines until it ends (continuations run on this grain's scheduler).</summary>
    private async Task Supervise(IRunHandle run, RunRequest request)
    {
        try
        {
            // Lines arrive in bursts (trades and equity points): take all that are waiting, then publish them
            // in one batch, so the stream's per-call cost does not pile up into latency.
            var batch = new List<BacktestEvent>();
            while (await run.Lines.WaitToReadAsync())
            {
                if (_detached)
                {
                    return;
                }

                while (batch.Count < 512 && run.Lines.TryRead(out var line))
                {
                    if (OnLine(line) is { } message)
                    {
                        batch.Add(message);
                    }
                }

                if (_stream is not null && batch.Count > 0)
                {
                    await _stream.OnNextBatchAsync(batch);
                }

                batch.Clear();
                ThrowIfRunningNotPersisted();
                await StopIfTimedOut();
            }

            var exit = await run.Exit;
            await SettleWrites();
            ThrowIfRunningNotPersisted();
            if (_detached)
            {
                return;
            }

            _runEnding = true;
            await OnRunEnded(run, request, exit);
        }
        catch (WorkerProtocolException e) when (!_detached)
        {
            // The worker broke the protocol (a line over the limit): the run ends here, killed, and is not retried.
            _runEnding = true;
            _log.LogWarning("Backtest {Id}: {Reason}", Id, e.Message);
            await EndRun(run);
            RecordDroppedLines();
            S.Error = new BacktestErrorData(ErrorTypes.Execution, e.Message,
                new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
            await Publish(MessageTypes.Error, S.Error);
            await Finish(BacktestState.Failed, e.Message);
        }
        catch (Exception e) when (!_detached)
        {
            _runEnding = true;
            _log.LogError(e, "Supervising backtest {Id} failed", Id);
            S.Error = new BacktestErrorData(ErrorTypes.Execution, e.Message, new BacktestErrorDetails(e.StackTrace, null, null, false));
            await EndRun(run);
            await Finish(BacktestState.Failed, "supervision failed: " + e.Message);
        }
        finally
        {
            _runEnding = false;
        }
    }

    /// <summary>
    /// Updates the snapshot from one protocol line; returns the event to publish (null: dropped, or a completion,
    /// which the grain announces itself from the stored results).
    /// </summary>
    private BacktestEvent? OnLine(string line)
    {
        _watchdog?.Line(_clock.Elapsed);
        if (line.Length > _options.MaxProtocolLineBytes)
        {
            // The runners cut lines at the limit as they split them; this holds for any runner on its own.
            throw WorkerProtocolException.LineTooLong(_options.MaxProtocolLineBytes);
        }

        var reader = _lineReader!;
        var foreign = reader.ForeignIdLines;
        if (reader.Read(line) is not { } message)
        {
            if (reader.ForeignIdLines == 1 && foreign == 0 || reader.MalformedLines == 1 && reader.ForeignIdLines == foreign)
            {
                // Once per kind and attempt: a hostile worker must not flood the log either.
                _log.LogWarning("Backtest {Id}: dropped a line from its worker ({Reason}); further ones are only counted", Id, reader.LastRejection);
            }

            return null;
        }

        line = message.Json;
        switch (message.Data)
        {
            case BacktestProgressData progress:
                S.Progress = progress;
                if (_resources is { } measured)
                {
                    // The container's own figures (its cgroup, seen by the daemon) replace the worker's self-report.
                    S.Progress = S.Progress with
                    {
                        Performance = new PerformanceInfo(measured.MemoryMb, measured.CpuPercent, measured.BlockIoMbPerSecond),
                    };
                    line = JsonSerializer.Serialize(new BacktestMessage<BacktestProgressData>(message.Type, Id.ToString(),
                        DateTime.UtcNow, S.Progress), JsonDefaults.Options);
                }

                _progressDirty = true;
                if (S.State == BacktestState.Starting && _toRunning is null)
                {
                    // Persisted beside the stream, not in front of it: a run's first lines come in a burst, and two
                    // round trips here held every one of them back. Every other state write waits for this one.
                    _toRunning = PersistRunning();
                }

                break;
            case BacktestErrorData error:
                S.Error = error; // truncated by the reader
                break;
            case null:
                // A completion line: anyone on stdout can print one, so it changes nothing. The exit code and the
                // validated results.json decide, and the grain announces the completion from them.
                return null;
        }

        // Progress is persisted by the supervision tick, not here: a database write on this path would hold up
        // every event behind it.
        return new BacktestEvent(Id, message.Type, line);
    }

    /// <summary>Copies the reader's counts of dropped lines into the attempt's record (shown in the status).</summary>
    private void RecordDroppedLines()
    {
        if (_lineReader is { } reader && S.Attempts.Count > 0)
        {
            S.Attempts[^1] = S.Attempts[^1] with { ForeignIdLines = reader.ForeignIdLines, MalformedLines = reader.MalformedLines };
        }
    }

    private async Task OnRunEnded(IRunHandle run, RunRequest request, RunExit exit)
    {
        await EndRun(run);
        RecordDroppedLines();
        var attempt = S.Attempts[^1];
        var outcome = exit.ExitCode switch
        {
            ExitCodes.Completed => "completed",
            ExitCodes.Stopped => "stopped with partial results",
            ExitCodes.Failed => "failed",
            ExitCodes.InvalidConfig => "invalid config",
            ExitCodes.CheckpointMismatch => "checkpoint mismatch",
            _ when exit.OutOfMemory => OutOfMemoryOutcome,
            _ => exit.Detail is { } detail ? $"died ({detail})" : $"died (exit code {exit.ExitCode})",
        };
        S.Attempts[^1] = attempt with { EndedAt = DateTime.UtcNow, ExitCode = exit.ExitCode, Outcome = outcome };
        var resultsPath = Path.Combine(request.OutputDirectory, WorkerFiles.Results);

        if (_stopAs is null && exit.ExitCode == ExitCodes.TimedOut)
        {
            // The worker's own watchdog (the limits the grain gave it) stopped the run: it ends timed out, like one
            // the silo stops, with its partial results, and is not retried.
            _stopAs = BacktestState.TimedOut;
            _stopReason = S.Error?.ErrorMessage ?? "the worker's watchdog stopped the run";
        }

        if (_stopAs is not null && exit.ExitCode == ExitCodes.Completed)
        {
            // The run finished before the stop reached it: its results are whole, so it completed.
            _stopAs = null;
        }

        if (_stopAs == BacktestState.Queued)
        {
            // The slot was reclaimed: give it back, keep the checkpoint, and wait for a new one.
            await SyncCheckpoint(request.OutputDirectory);
            await MoveTo(BacktestState.Queued, _stopReason);
            await Queue.Enqueue(Id, S.Owner, S.Priority);
            return;
        }

        if (_stopAs is { } stopAs)
        {
            var result = await ReadPartialResults(resultsPath);
            if (result is not null)
            {
                await _store.SaveResultsAsync(Id, result);
                S.Summary = SummaryOf(result);
            }

            if (stopAs == BacktestState.TimedOut)
            {
                S.Error = new BacktestErrorData(ErrorTypes.Timeout, _stopReason ?? "timed out",
                    new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
                await Publish(MessageTypes.Error, S.Error);
            }

            await Finish(stopAs, (_stopReason ?? "stopped") + (result is null ? "" : "; partial results kept"),
                () => Publish(MessageTypes.Complete, new BacktestCompleteData(CompletionStatus.Cancelled,
                    S.RunningTime.TotalSeconds, S.Summary ?? EmptySummary, ResultsUrl, result is not null)));
            return;
        }

        switch (exit.ExitCode)
        {
            case ExitCodes.Completed:
                BacktestResult result;
                try
                {
                    result = await ResultsFile.ReadAsync(resultsPath, S.ContentHash, _options.MaxResultsBytes, whole: true)
                        ?? throw new WorkerProtocolException("the worker completed but wrote no results.json");
                }
                catch (WorkerProtocolException e)
                {
                    // Nothing of this run is stored: no results, no summary.
                    S.Summary = null;
                    S.Error = new BacktestErrorData(ErrorTypes.Execution, e.Message, null);
                    await Publish(MessageTypes.Error, S.Error);
                    await Finish(BacktestState.Failed, e.Message);
                    return;
                }

                await _store.SaveResultsAsync(Id, result);
                S.Summary = SummaryOf(result);
                S.Checkpoint = null;
                // The completion is the grain's, from the stored results: never the line the worker printed.
                await Finish(BacktestState.Completed, null, () => Publish(MessageTypes.Complete,
                    new BacktestCompleteData(CompletionStatus.Completed, S.RunningTime.TotalSeconds, S.Summary, ResultsUrl, false)));

                TryDelete(Path.GetDirectoryName(request.OutputDirectory)!);
                return;
            case ExitCodes.Failed or ExitCodes.InvalidConfig or ExitCodes.CheckpointMismatch or ExitCodes.Usage:
                S.Error ??= new BacktestErrorData(ErrorTypes.Execution, $"the worker {outcome}", null);
                await Finish(BacktestState.Failed, S.Error.ErrorMessage);
                return;
        }

        if (exit.Fatal is { } fatal)
        {
            // A death every retry would repeat (a stack overflow): the backtest fails now, saying what killed it.
            S.Error = new BacktestErrorData(ErrorTypes.Execution, fatal,
                new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
            await Publish(MessageTypes.Error, S.Error);
            await Finish(BacktestState.Failed, fatal);
            return;
        }

        // The run died (killed, crashed, out of memory): retry from the checkpoint while attempts remain.
        await SyncCheckpoint(request.OutputDirectory);
        if (exit.OutOfMemory)
        {
            // More memory, up to the cap: these retries do not count against MaxAttempts, the cap bounds them.
            if (attempt.MemoryLimitBytes is { } limit && limit < _options.Docker.MaxMemoryBytes)
            {
                await StartAttempt($"attempt {S.Attempts.Count} ran out of memory at {limit / 1048576} MB; " +
                    $"retrying from the checkpoint with {Math.Min(limit * 2, _options.Docker.MaxMemoryBytes) / 1048576} MB");
                return;
            }

            S.Error = new BacktestErrorData(ErrorTypes.Memory,
                $"the run ran out of memory at the cap of {(attempt.MemoryLimitBytes ?? 0) / 1048576} MB (Backtesting:Docker:MaxMemoryBytes)",
                new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
            await Publish(MessageTypes.Error, S.Error);
            await Finish(BacktestState.Failed, S.Error.ErrorMessage);
            return;
        }

        if (S.Attempts.Count(a => a.Outcome != OutOfMemoryOutcome) < _options.MaxAttempts)
        {
            await StartAttempt($"attempt {S.Attempts.Count} {outcome}; retrying from the checkpoint");
            return;
        }

        S.Error = new BacktestErrorData(exit.OutOfMemory ? ErrorTypes.Memory : ErrorTypes.Execution,
            $"the run {outcome} on {S.Attempts.Count} attempts", new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
        await Publish(MessageTypes.Error, S.Error);
        await Finish(BacktestState.Failed, S.Error.ErrorMessage);
    }

    private async Task OnTick(CancellationToken cancellation)
    {
        if (_run is null || await StopIfTimedOut())
        {
            return;
        }

        if (!await Queue.Renew(Id, SiloName) && _stopAs is null)
        {
            _log.LogWarning("Backtest {Id} lost its slot; stopping and queueing again", Id);
            _stopAs = BacktestState.Queued;
            _stopReason = "its slot was reclaimed; queued again to continue from the checkpoint";
            await _run.StopAsync(_options.StopGrace);
            return;
        }

        await SyncCheckpoint(_runDirectory ?? RunDirectory);
        RecordDroppedLines();
        if (_progressDirty && DateTime.UtcNow - _lastProgressWrite >= _options.ProgressPersistInterval)
        {
            await PersistProgress();
        }
    }

    /// <summary>
    /// Stops the run once its running time passes the limit. Checked first on every tick and after every batch of
    /// lines: a run that streams without pause must not outlive its budget while the tick waits on I/O.
    /// </summary>
    private async Task<bool> StopIfTimedOut()
    {
        var used = S.RunningTime + (_runningSince?.Elapsed ?? TimeSpan.Zero);
        // Starting counts too: a run that never reports its first progress (a strategy looping in its first bar) must end.
        if (_run is null || S.State is not (BacktestState.Running or BacktestState.Starting) || _stopAs is not null
            || _watchdog?.Check(_clock.Elapsed, used, _options.TimeoutFor(S.InstrumentCount)) is not { } reason)
        {
            return false;
        }

        _log.LogWarning("Backtest {Id}: {Reason}; stopping it", Id, reason);
        _stopAs = BacktestState.TimedOut;
        _stopReason = reason;
        await _run.StopAsync(_options.StopGrace);
        return true;
    }

    /// <summary>Stops whatever stage the backtest is in, ending as <paramref name="endAs"/>.</summary>
    private async Task StopRun(BacktestState endAs, string reason)
    {
        if (S.State is BacktestState.Created or BacktestState.Queued || _run is null)
        {
            await Queue.Remove(Id);
            await Finish(endAs, reason);
            return;
        }

        _stopAs = endAs;
        _stopReason = reason;
        var supervision = _supervision;
        await _run.StopAsync(_options.StopGrace);
        if (supervision is not null)
        {
            await supervision;
        }
    }

    private async Task EndRun(IRunHandle run)
    {
        AccumulateRunningTime();
        await run.DisposeAsync();
        _run = null;
        _supervision = null;
        _tick?.Dispose();
        _tick = null;
    }

    /// <summary>
    /// Stores the terminal state, then runs <paramref name="announce"/> (the completion event), then frees the slot
    /// and the recovery reminder. The event goes out once the state and results are stored, so a client that reacts
    /// to it finds them, but not behind the clean-up, which no client waits for. A failed announcement is logged and
    /// the clean-up still runs: the state is stored, and a subscriber's snapshot on reconnecting shows it.
    /// </summary>
    private async Task Finish(BacktestState state, string? detail, Func<Task>? announce = null)
    {
        S.CompletedAt = DateTime.UtcNow;
        await MoveTo(state, detail);
        if (announce is not null)
        {
            try
            {
                await announce();
            }
            catch (Exception e)
            {
                _log.LogWarning(e, "Backtest {Id}: publishing its completion failed; it ended {State}", Id, state);
            }
        }

        await Queue.Release(Id);
        await UnregisterRecovery();
    }

    /// <summary>
    /// The move to Running, persisted while the run's lines stream on (see OnLine); it never throws, its failure
    /// is kept in <see cref="_toRunningFailure"/> for the supervision loop to raise.
    /// </summary>
    private async Task PersistRunning()
    {
        try
        {
            await MoveTo(BacktestState.Running, null);
        }
        catch (Exception e)
        {
            _toRunningFailure = e;
        }
    }

    private void ThrowIfRunningNotPersisted()
    {
        if (_toRunningFailure is { } failure)
        {
            _toRunningFailure = null;
            throw new InvalidOperationException("persisting the move to Running failed: " + failure.Message, failure);
        }
    }

    /// <summary>Waits for the move to Running in flight, if any: one state write at a time, in order.</summary>
    private async Task SettleWrites()
    {
        if (_toRunning is { IsCompleted: false } pending)
        {
            await pending;
        }
    }

    private async Task MoveTo(BacktestState next, string? detail)
    {
        await SettleWrites();
        if (!Lifecycle.CanMove(S.State, next))
        {
            throw new IllegalTransitionException(S.State, $"move to {next}");
        }

        var now = DateTime.UtcNow;
        S.State = next;
        S.UpdatedAt = now;
        S.History.Add(new StateChange(next, now, detail));
        // The grain's state and the backtests row are written side by side: both are done before the move is
        // acknowledged, and a failure of either fails it, as one after the other would.
        await Task.WhenAll(
            _state.WriteStateAsync(),
            _store.UpdateStatusAsync(Id, Lifecycle.Word(next), S.Progress?.Progress.Percentage,
                S.Error?.ErrorMessage, Lifecycle.IsTerminal(next) ? S.CompletedAt ?? now : null, detail));
        _progressDirty = false;
        _lastProgressWrite = now;
    }

    private async Task PersistProgress()
    {
        await SettleWrites();
        _progressDirty = false;
        _lastProgressWrite = DateTime.UtcNow;
        await _state.WriteStateAsync();
        await _store.UpdateStatusAsync(Id, Lifecycle.Word(S.State), S.Progress?.Progress.Percentage, null, null, null);
    }

    private async Task SyncCheckpoint(string directory)
    {
        var path = Path.Combine(directory, WorkerFiles.Checkpoint);
        if (!File.Exists(path))
        {
            return;
        }

        string json;
        try
        {
            // The worker wrote it: a link there is refused, never followed (AttemptFolder).
            if (await AttemptFolder.ReadTextAsync(path) is not { } text)
            {
                return;
            }

            json = text;
        }
        catch (IOException)
        {
            return; // being replaced right now (or not a plain file); the next tick reads it
        }

        if (json == _lastCheckpointSynced)
        {
            return;
        }

        await SettleWrites();
        _lastCheckpointSynced = json;
        S.Checkpoint = json;
        await _store.SaveCheckpointAsync(Id, json);
        await _state.WriteStateAsync();
    }

    private void AccumulateRunningTime()
    {
        if (_runningSince is not null)
        {
            S.RunningTime += _runningSince.Elapsed;
            _runningSince = null;
        }
    }

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
    /// queue and the run's start instead of holding back the run's first burst of lines. A live hint only: a
    /// failure is logged, never fails the submission.
    /// </summary>
    private async Task AnnounceOnStream()
    {
        try
        {
            await Publish(MessageTypes.Progress, S.Progress ?? BacktestProgressData.None);
        }
        catch (Exception e)
        {
            _log.LogWarning(e, "Backtest {Id}: publishing its first event failed", Id);
        }
    }

    private async Task Publish<T>(string type, T data)
    {
        if (_stream is null)
        {
            return;
        }

        var line = JsonSerializer.Serialize(new BacktestMessage<T>(type, Id.ToString(), DateTime.UtcNow, data), JsonDefaults.Options);
        await _stream.OnNextAsync(new BacktestEvent(Id, type, line));
    }

    /// <summary>The partial results a stopped run left, validated like whole ones; null when there are none or they fail the checks.</summary>
    private async Task<BacktestResult?> ReadPartialResults(string path)
    {
        try
        {
            return await ResultsFile.ReadAsync(path, S.ContentHash, _options.MaxResultsBytes, whole: false);
        }
        catch (WorkerProtocolException e)
        {
            _log.LogWarning("Backtest {Id}: its partial results are not kept: {Reason}", Id, e.Message);
            return null;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover run folder is harmless; the results are in PostgreSQL.
        }
    }

    private static readonly CompletionSummary EmptySummary = new(0, 0, 0, 0);

    private static CompletionSummary SummaryOf(BacktestResult result) => ResultsFile.SummaryOf(result);

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
