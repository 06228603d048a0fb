using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Protocol;
using Backtesting.Grains.Runners;
using Backtesting.Grains.Supervision;
using Backtesting.Storage;

namespace Backtesting.Grains;

// The run of a backtest: starting an attempt, reading its lines, the supervision tick, and doing what
// RunEndRule decides when it ends.
public sealed partial class BacktestGrain
{
    private string RunDirectory => Path.Combine(_options.WorkDirectory, Id.ToString("N"), $"attempt-{S.Attempts.Count}");

    /// <summary>Starts an attempt in the slot the queue granted at <paramref name="grantedAt"/> (recorded on the attempt).</summary>
    private async Task StartAttempt(string? detail, DateTime? grantedAt)
    {
        if (_attemptStarting)
        {
            return;
        }

        _attemptStarting = true;
        var attempts = S.Attempts.Count;
        try
        {
            await StartAttemptOnce(detail, grantedAt);
        }
        catch (Exception e) when (!_detached && Interruption(e) is { } interruption)
        {
            // The database or a silo went away while the attempt was being started (its state, its row, the slot): not the
            // run's fault. A run already started without its supervision is let go; the attempt ends as interrupted (it does
            // not count against MaxAttempts) and the run is started again shortly.
            LogStartInterrupted(e, Id, RunInterruptions.Describe(interruption));
            if (_attempt is { Run: { } started, Supervision: null })
            {
                await EndRun(started);
            }

            if (S.Attempts.Count > attempts && S.Attempts[^1].EndedAt is null)
            {
                S.Attempts[^1] = S.Attempts[^1] with { EndedAt = DateTime.UtcNow, Outcome = interruption };
            }

            RecoverSoon(interruption);
        }
        finally
        {
            _attemptStarting = false;
        }
    }

    private async Task StartAttemptOnce(string? detail, DateTime? grantedAt)
    {
        // Checkpoints exist only once an attempt has run; the first attempt needs no round trip to look.
        var checkpoint = S.Checkpoint ?? (S.Attempts.Count == 0 ? null : await _store.LoadCheckpointAsync(Id));
        var number = S.Attempts.Count + 1;
        var resumeFrom = 0L;
        if (checkpoint is not null)
        {
            using var document = JsonDocument.Parse(checkpoint);
            resumeFrom = document.RootElement.GetProperty("processedPoints").GetInt64();
        }

        var memory = RunEndRule.NextMemoryLimit(_runner.Kind == "docker", S.Attempts, _options.Docker.MemoryBytes, _options.Docker.MaxMemoryBytes);
        S.Attempts.Add(new RunAttempt(number, _runner.Kind, DateTime.UtcNow, null, null, null, resumeFrom,
            SiloName, null, memory, GrantedAt: grantedAt));
        await _writer.MoveTo(BacktestState.Starting, detail ?? $"attempt {number} on the {_runner.Kind} runner");
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

        var request = new RunRequest(Id, number, S.ConfigJson!, RunDirectory,
            _data is LeanDataProvider lean ? lean.DataRoot : DataRoot.Locate(_options.DataDirectory) ?? "",
            checkpoint is not null, _options.CheckpointInterval, memory, strategySource, _options.MaxProtocolLineBytes,
            _options.TimeoutFor(S.InstrumentCount) - S.RunningTime, _options.StallTimeout);
        if (checkpoint is not null)
        {
            AttemptFolder.Prepare(request.OutputDirectory, owner: null);
            await AttemptFolder.WriteTextAsync(Path.Combine(request.OutputDirectory, WorkerFiles.Checkpoint), checkpoint);
        }

        var attempt = _attempt = new ActiveAttempt(new AttemptLines(Id, _options.MaxProtocolLineBytes),
            new SiloWatchdog(_options.StallTimeout, strategySource is null ? TimeSpan.Zero : _options.CompileTimeout));
        _writer.NewAttempt();
        IRunHandle run;
        try
        {
            run = attempt.Run = await _runner.StartAsync(request, CancellationToken.None);
        }
        catch (RunnerInterruptedException e)
        {
            // The runner's daemon is restarting: not the run's fault, so never a reason to fail it. The state stays active
            // with no run, and the run is started again as a lost one once the runner answers (a try every few seconds).
            LogRunnerInterrupted(Id, e.Message);
            S.Attempts[^1] = S.Attempts[^1] with { EndedAt = DateTime.UtcNow, Outcome = RunEndRule.RunnerInterruptedOutcome };
            RecoverSoon(RunEndRule.RunnerInterruptedOutcome);
            await _writer.Save();
            return;
        }
        catch (RunnerUnavailableException e)
        {
            // Nothing can run here until an operator acts (a daemon to start, an image to build): fail at once.
            LogRunnerUnavailable(Id, e.Message);
            await FailBeforeRun("runner unavailable", e.Message, recoverable: true);
            return;
        }
        catch (CustomStrategyRefusedException e)
        {
            // This cluster's runner may not run untrusted code: no retry would change that.
            LogCustomStrategyRefused(Id, e.Message);
            await FailBeforeRun("custom strategy refused", e.Message);
            return;
        }

        attempt.Directory = request.OutputDirectory;
        if (run.ReattachedOutputDirectory is { } reattached)
        {
            // A container left running by a silo that died: this attempt follows it instead of starting another.
            attempt.Directory = reattached;
            request = request with { OutputDirectory = reattached };
        }

        _resources = null;
        var started = S.Attempts[^1] with
        {
            ProcessId = run.ProcessId,
            Container = run.Container,
            Reattached = run.ReattachedOutputDirectory is not null,
        };
        if (started != S.Attempts[^1])
        {
            // What finds the run again after a crash (its process or container); an in-process run has neither.
            S.Attempts[^1] = started;
            await _writer.Save();
        }
        attempt.RunningSince = Stopwatch.StartNew();
        attempt.Watchdog.Started(_clock.Elapsed);
        _writer.CheckpointKnown(checkpoint);
        // The tick keeps the activation alive while a run lasts: reading the worker's lines is not an incoming
        // call, and an idle activation would otherwise be collected in the middle of a long run.
        _tick ??= this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions(_options.SupervisionTick, _options.SupervisionTick)
        {
            Interleave = true,
            KeepAlive = true,
        });
        attempt.Supervision = Supervise(attempt, run, request);
        if (run.Resources is { } resources)
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

    /// <summary>Reads the run's lines until it ends (continuations run on this grain's scheduler).</summary>
    private async Task Supervise(ActiveAttempt attempt, IRunHandle run, RunRequest request)
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
                    if (OnLine(attempt, line) is { } message)
                    {
                        batch.Add(message);
                    }
                }

                if (_events is not null)
                {
                    await _events.PublishAsync(batch);
                }

                batch.Clear();
                _writer.ThrowIfRunningNotPersisted();
                await StopIfTimedOut();
            }

            var exit = await run.Exit;
            await _writer.Settle();
            _writer.ThrowIfRunningNotPersisted();
            if (_detached)
            {
                return;
            }

            _runEnding = true;
            await OnRunEnded(attempt, run, request, exit);
        }
        catch (WorkerProtocolException e) when (!_detached)
        {
            // The worker broke the protocol (a line over the limit): the run ends here, killed, and is not retried.
            _runEnding = true;
            LogProtocolBroken(Id, e.Message);
            await EndRun(run);
            RecordDroppedLines();
            S.Error = new BacktestErrorData(ErrorTypes.Execution, e.Message,
                new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
            await Publish(MessageTypes.Error, S.Error);
            await Finish(BacktestState.Failed, e.Message);
        }
        catch (Exception e) when (!_detached && Interruption(e) is { } interruption)
        {
            // PostgreSQL went away under the supervision (a restart met on a pooled connection), or the queue grain's silo
            // could not be reached (a requeue, the release at the end): not the run's fault, so never a reason to fail it.
            // This run ends; the recovery takes it up again once the cluster answers (a retry every few seconds, the
            // reminder behind it): an active state with no run starts again, a queued one asks for its slot, an ended one
            // stores its end again and gives its slot back. An attempt that had ended keeps its outcome.
            _runEnding = true;
            LogSupervisionInterrupted(e, Id, RunInterruptions.Describe(interruption));
            await EndRun(run);
            if (S.Attempts[^1].EndedAt is null)
            {
                S.Attempts[^1] = S.Attempts[^1] with { EndedAt = DateTime.UtcNow, Outcome = interruption };
            }

            RecoverSoon(interruption);
        }
        catch (Exception e) when (!_detached && Lifecycle.IsTerminal(S.State))
        {
            // The end is decided and in the state already; what failed came after it: settled (stored, slot back) shortly.
            _runEnding = true;
            LogEndNotSettled(e, Id, S.State);
            await EndRun(run);
            RecoverSoon(null);
        }
        catch (Exception e) when (!_detached && RunInterruptions.Of(e) is not null)
        {
            // The cluster stayed unreachable past its grace: the backtest gives up.
            _runEnding = true;
            await EndRun(run);
            await GiveUpUnreachable(e);
        }
        catch (Exception e) when (!_detached)
        {
            _runEnding = true;
            LogSupervisionFailed(e, Id);
            S.Error = new BacktestErrorData(ErrorTypes.Execution, e.Message, new BacktestErrorDetails(e.StackTrace, null, null, false));
            await EndRun(run);
            await Publish(MessageTypes.Error, S.Error);
            await Finish(BacktestState.Failed, "supervision failed: " + e.Message);
        }
        finally
        {
            _runEnding = false;
        }
    }

    /// <summary>
    /// Updates the snapshot from one protocol line; returns the event to publish (null: dropped, or a completion,
    /// which the grain announces itself from the stored results). Progress is persisted by the supervision tick, not
    /// here: a database write on this path would hold up every event behind it.
    /// </summary>
    private BacktestEvent? OnLine(ActiveAttempt attempt, string line)
    {
        attempt.Watchdog.Line(_clock.Elapsed);
        switch (attempt.Lines.Read(line, _resources))
        {
            case WorkerEvent.Dropped dropped:
                if (dropped.FirstOfItsKind)
                {
                    LogLineDropped(Id, dropped.Reason);
                }

                return null;
            case WorkerEvent.Progress progress:
                S.Progress = progress.Data;
                _writer.ProgressReceived();
                return progress.Event;
            case WorkerEvent.Error error:
                S.Error = error.Data; // truncated by the reader
                return error.Event;
            case WorkerEvent.Published published:
                return published.Event;
            case WorkerEvent.Diagnostic { Timings: var t }:
                // A worker run with --timings says where its time went: logged, neither published nor an error.
                LogTimings(Id, t.StartupMs, t.DataMs, t.EngineMs, t.ResultsMs, t.TotalMs);
                return null;
            default:
                return null; // a completion: the exit code and the validated results.json decide
        }
    }

    /// <summary>Copies the reader's counts of dropped lines into the attempt's record (shown in the status).</summary>
    private void RecordDroppedLines()
    {
        if (_attempt?.Lines.Reader is { } reader && S.Attempts.Count > 0)
        {
            S.Attempts[^1] = S.Attempts[^1] with { ForeignIdLines = reader.ForeignIdLines, MalformedLines = reader.MalformedLines };
        }
    }

    private async Task OnRunEnded(ActiveAttempt attempt, IRunHandle run, RunRequest request, RunExit exit)
    {
        await EndRun(run);
        RecordDroppedLines();
        S.Attempts[^1] = S.Attempts[^1] with { EndedAt = DateTime.UtcNow, ExitCode = exit.ExitCode, Outcome = RunEndRule.Outcome(exit) };
        var decision = RunEndRule.Decide(new RunEndFacts(exit, attempt.StopAs, attempt.StopReason, S.Error?.ErrorMessage,
            S.Attempts, _options.MaxAttempts, _options.Docker.MaxMemoryBytes));
        var resultsPath = Path.Combine(request.OutputDirectory, WorkerFiles.Results);
        switch (decision)
        {
            case RunEndDecision.Requeue requeue:
                // The slot was reclaimed: give it back, keep the checkpoint, and wait for a new one.
                await _writer.SyncCheckpoint(request.OutputDirectory);
                await _writer.MoveTo(BacktestState.Queued, requeue.Reason);
                await Queue.Enqueue(Id, S.Owner, S.Priority);
                return;
            case RunEndDecision.Stop stop:
                await EndStopped(stop, resultsPath);
                return;
            case RunEndDecision.Complete:
                if (await Complete(resultsPath))
                {
                    TryDelete(Path.GetDirectoryName(request.OutputDirectory)!);
                }

                return;
            case RunEndDecision.FailAsReported failed:
                if (S.Error is null)
                {
                    // The worker failed without saying why: the error event is the grain's, as for any other failure.
                    S.Error = new BacktestErrorData(ErrorTypes.Execution, failed.Fallback, null);
                    await Publish(MessageTypes.Error, S.Error);
                }

                await Finish(BacktestState.Failed, S.Error.ErrorMessage);
                return;
            case RunEndDecision.Fail fail:
                if (fail.SyncCheckpoint)
                {
                    await _writer.SyncCheckpoint(request.OutputDirectory);
                }

                S.Error = new BacktestErrorData(fail.ErrorType, fail.Message,
                    new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
                await Publish(MessageTypes.Error, S.Error);
                await Finish(BacktestState.Failed, fail.Message);
                return;
            case RunEndDecision.Retry retry:
                await _writer.SyncCheckpoint(request.OutputDirectory);
                // Run again in the same slot: the attempt keeps its grant's time.
                await StartAttempt(retry.Detail, S.Attempts[^1].GrantedAt);
                return;
        }
    }

    /// <summary>A run the silo stopped (or the worker's own watchdog): its partial results are kept when they pass the checks.</summary>
    private async Task EndStopped(RunEndDecision.Stop stop, string resultsPath)
    {
        var result = await ReadPartialResults(resultsPath);
        if (result is not null)
        {
            await _store.SaveResultsAsync(Id, result);
            S.Summary = ResultsFile.SummaryOf(result);
        }

        if (stop.EndAs == BacktestState.TimedOut)
        {
            S.Error = new BacktestErrorData(ErrorTypes.Timeout, stop.Reason ?? "timed out",
                new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, false));
            await Publish(MessageTypes.Error, S.Error);
        }

        await Finish(stop.EndAs, (stop.Reason ?? "stopped") + (result is null ? "" : "; partial results kept"),
            () => Publish(MessageTypes.Complete, new BacktestCompleteData(Lifecycle.CompletionWord(stop.EndAs),
                S.RunningTime.TotalSeconds, S.Summary ?? EndAnnouncement.EmptySummary, ResultsUrl, result is not null)));
    }

    /// <summary>The worker completed: its results are stored once they pass the checks (true), or the backtest fails (false).</summary>
    private async Task<bool> Complete(string resultsPath)
    {
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
            return false;
        }

        await _store.SaveResultsAsync(Id, result);
        S.Summary = ResultsFile.SummaryOf(result);
        S.Checkpoint = null;
        // The completion is the grain's, from the stored results: never the line the worker printed.
        await Finish(BacktestState.Completed, null, () => Publish(MessageTypes.Complete,
            new BacktestCompleteData(CompletionStatus.Completed, S.RunningTime.TotalSeconds, S.Summary, ResultsUrl, false)));
        return true;
    }

    private async Task OnTick(CancellationToken cancellation)
    {
        if (Run is null || await StopIfTimedOut())
        {
            return;
        }

        // Read again after each wait: the tick interleaves with the supervision loop, which may end the run meanwhile.
        // The run may have ended (and its attempt's handle been cleared) while the renewal was awaited.
        var renewed = await Queue.Renew(Id, SiloName);
        _unreachable.Answered();
        if (!renewed && _attempt is { StopAs: null, Run: { } run } attempt)
        {
            LogSlotLost(Id);
            attempt.RequestStop(BacktestState.Queued, "its slot was reclaimed; queued again to continue from the checkpoint");
            await run.StopAsync(_options.StopGrace);
            return;
        }

        await _writer.SyncCheckpoint(_attempt?.Directory ?? RunDirectory);
        RecordDroppedLines();
        await _writer.PersistProgressIfDue(_options.ProgressPersistInterval);
    }

    /// <summary>
    /// Stops the run once its running time passes the limit. Checked first on every tick and after every batch of
    /// lines: a run that streams without pause must not outlive its budget while the tick waits on I/O.
    /// </summary>
    private async Task<bool> StopIfTimedOut()
    {
        var used = S.RunningTime + (_attempt?.RunningSince?.Elapsed ?? TimeSpan.Zero);
        // Starting counts too: a run that never reports its first progress (a strategy looping in its first bar) must end.
        if (_attempt is not { Run: { } run } attempt || S.State is not (BacktestState.Running or BacktestState.Starting) || attempt.StopAs is not null
            || attempt.Watchdog.Check(_clock.Elapsed, used, _options.TimeoutFor(S.InstrumentCount)) is not { } reason)
        {
            return false;
        }

        LogTimedOut(Id, reason);
        attempt.RequestStop(BacktestState.TimedOut, reason);
        await run.StopAsync(_options.StopGrace);
        return true;
    }

    /// <summary>Stops whatever stage the backtest is in, ending as <paramref name="endAs"/>.</summary>
    private async Task StopRun(BacktestState endAs, string reason)
    {
        if (S.State is BacktestState.Created or BacktestState.Queued || _attempt is not { Run: { } run } attempt)
        {
            await Queue.Remove(Id);
            await Finish(endAs, reason);
            return;
        }

        attempt.RequestStop(endAs, reason);
        var supervision = attempt.Supervision;
        await run.StopAsync(_options.StopGrace);
        if (supervision is not null)
        {
            await supervision;
        }
    }

    /// <summary>
    /// Tries <see cref="Recover"/> every <see cref="RecoveryRetryPeriod"/> until one try has held and the backtest needs
    /// nothing more (<see cref="RecoveryRule.Settled"/>: it has a run again, waits in the queue, is paused, or has ended
    /// with its end stored and its slot given back): after the database, a silo or the runner's daemon went away, the
    /// first tries fail while it is still away. <paramref name="interruption"/> is what took the run away (null: its silo).
    /// </summary>
    private void RecoverSoon(string? interruption)
    {
        _interruption = interruption;
        _recoverSoon ??= this.RegisterGrainTimer(async () =>
        {
            try
            {
                await Recover(_interruption);
                // The step held: the cluster answered.
                _unreachable.Answered();
                if (RecoveryRule.Settled(S.State, S.Deleted, HasRun))
                {
                    _recoverSoon?.Dispose();
                    _recoverSoon = null;
                    _interruption = null;
                }
            }
            catch (Exception e)
            {
                LogRecoveryRetryFailed(e, Id);
                if (_unreachable.GivesUp(e, DateTime.UtcNow) && !S.Deleted && !HasRun
                    && S.State is BacktestState.Starting or BacktestState.Running)
                {
                    // Unreachable past the grace, with a run it has not got: the backtest gives up.
                    await GiveUpUnreachable(e);
                }
            }
        }, new GrainTimerCreationOptions(RecoveryRetryPeriod, RecoveryRetryPeriod) { KeepAlive = true });
    }

    /// <summary>
    /// What interrupted the run when <paramref name="e"/> is the cluster's passing fault and is still waited for; null when
    /// it is the run's own, or the cluster has been unreachable past <see cref="BacktestClusterOptions.ClusterUnreachableGrace"/>
    /// (<see cref="UnreachableWait"/>).
    /// </summary>
    private string? Interruption(Exception e) => _unreachable.Interruption(e, DateTime.UtcNow);

    /// <summary>The cluster could not be reached for longer than its grace: the backtest fails, saying so (its slot goes back once it answers).</summary>
    private async Task GiveUpUnreachable(Exception e)
    {
        var reason = _unreachable.GiveUpReason(e);
        LogGaveUpUnreachable(e, Id, _options.ClusterUnreachableGrace);
        if (S.Attempts.Count > 0 && S.Attempts[^1].EndedAt is null)
        {
            S.Attempts[^1] = S.Attempts[^1] with { EndedAt = DateTime.UtcNow, Outcome = RunInterruptions.ClusterUnreachableOutcome };
        }

        _unreachable.Answered();
        S.Error = new BacktestErrorData(ErrorTypes.Execution, reason, new BacktestErrorDetails(null, S.Progress?.Progress.CurrentDate, null, true));
        await Publish(MessageTypes.Error, S.Error);
        await Finish(BacktestState.Failed, reason);
    }

    /// <summary>
    /// Lets go of the run. A runner that fails to clean up (a daemon gone, a run whose end was a fault) is logged
    /// and otherwise ignored: the backtest still reaches its terminal state, which is what its caller goes on to do.
    /// </summary>
    private async Task EndRun(IRunHandle run)
    {
        AccumulateRunningTime();
        try
        {
            await run.DisposeAsync();
        }
        catch (Exception e)
        {
            LogRunReleaseFailed(e, Id);
        }

        if (_attempt is { } attempt)
        {
            attempt.Run = null;
            attempt.Supervision = null;
        }

        _tick?.Dispose();
        _tick = null;
    }

    /// <summary>
    /// Stores the terminal state, then runs <paramref name="announce"/> (the completion event; without one, a
    /// completion with the terminal state's word and no results, so every end is announced and a client waiting
    /// for <c>backtest_complete</c> never waits forever) and the clean-up (the slot given back, the recovery reminder
    /// dropped) side by side (<see cref="EndSequence"/>): the event goes out once the state and results are stored, so a
    /// client that reacts to it finds them, and a publish that hangs on a dead silo does not keep the slot from the next
    /// run. A failed announcement is logged (the state is stored, and a subscriber's snapshot on reconnecting shows it); a
    /// release interrupted by the cluster is given back by the recovery shortly; any other failure of the clean-up is
    /// thrown once both have ended, as before.
    /// </summary>
    private async Task Finish(BacktestState state, string? detail, Func<Task>? announce = null)
    {
        S.CompletedAt = DateTime.UtcNow;
        await _writer.MoveTo(state, detail);
        announce ??= () => Publish(MessageTypes.Complete, EndAnnouncement.Of(state, deleted: false, S.RunningTime, S.Summary, S.Error,
            ResultsUrl)!.Complete);
        var end = await EndSequence.Run(announce, async () =>
        {
            await Queue.Release(Id);
            await UnregisterRecovery();
        });
        if (end.AnnounceFailure is { } lost)
        {
            LogCompletionNotPublished(lost, Id, state);
        }

        if (end.ReleaseFailure is { } failed)
        {
            if (RunInterruptions.Of(failed) is not { } interruption)
            {
                ExceptionDispatchInfo.Throw(failed);
                return;
            }

            // The end is stored; the slot must still go back (a release lost with the queue's silo would hold it until its
            // lease ran out): the recovery gives it back shortly, the reminder behind it.
            LogEndNotSettled(failed, Id, state);
            RecoverSoon(interruption);
        }
    }

    private void AccumulateRunningTime()
    {
        if (_attempt is { } attempt)
        {
            S.RunningTime += attempt.TakeRunningTime();
        }
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
            LogPartialResultsRefused(Id, e.Message);
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
}
