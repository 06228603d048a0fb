using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Results;
using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.WalkForward;
using Backtesting.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Backtesting.Grains;

/// <summary>
/// One walk-forward job. Orchestration only: its rules are <see cref="WalkForwardJobRules"/> (reading, validating, the
/// configs each window runs), <see cref="WalkForwardWindowRule"/> (what a child's state means for its window) and
/// <see cref="WalkForwardAnalysis"/> (the stitched result); its moves are an optimization's
/// (<see cref="OptimizationLifecycle"/>), each persisted (grain state, then the walkforwards row) before it is told.
/// </summary>
/// <remarks>
/// <para>Every window's in-sample optimization starts at once (they wait in the cluster's queue like any job); the job
/// then looks at its children on a timer. A window whose optimization completed with a feasible best trial is recorded
/// with that trial, and only then its out-of-sample backtest is submitted; one without a feasible trial is recorded as
/// such. The children's ids derive from the job's id and the window (<see cref="WalkForwardIds"/>), so a job that goes
/// on after a silo's death finds the children it started rather than starting them twice.</para>
/// <para>The recovery reminder is registered before the first state is written: a job stored is a job that comes back.</para>
/// </remarks>
public sealed partial class WalkForwardGrain : Grain, IWalkForwardGrain, IRemindable
{
    private const string RecoveryReminder = "recover";

    private readonly IPersistentState<WalkForwardGrainState> _state;
    private readonly PostgresWalkForwardStore _store;
    private readonly IMarketDataProvider _data;
    private readonly StrategyCatalog _strategies;
    private readonly BacktestClusterOptions _options;
    private readonly ILogger<WalkForwardGrain> _log;
    private IGrainTimer? _timer;
    private IGrainReminder? _recovery;
    private WalkForwardJob? _job;

    public WalkForwardGrain(
        [PersistentState("walkforward", "Default")] IPersistentState<WalkForwardGrainState> state,
        PostgresWalkForwardStore store,
        IMarketDataProvider data,
        StrategyCatalog strategies,
        IOptions<BacktestClusterOptions> options,
        ILogger<WalkForwardGrain> log)
    {
        _state = state;
        _store = store;
        _data = data;
        _strategies = strategies;
        _options = options.Value;
        _log = log;
    }

    private WalkForwardGrainState S => _state.State;
    private Guid Id => this.GetPrimaryKey();
    private bool Exists => S.ConfigJson is not null;
    private WalkForwardJob Job => _job ??= JsonSerializer.Deserialize<WalkForwardJob>(S.ConfigJson!, JsonDefaults.Options)!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Exists && !OptimizationLifecycle.IsTerminal(S.State))
        {
            StartTimer();
        }

        return Task.CompletedTask;
    }

    // ---- Requests -------------------------------------------------------------------------------------

    public async Task<WalkForwardStatus> Submit(WalkForwardSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (Exists)
        {
            throw new IllegalOptimizationMoveException(S.State, "submit");
        }

        var (errors, plan) = WalkForwardJobRules.Validate(submission.Job, _data, _strategies, _options.AdmissionPolicy(),
            DateOnly.FromDateTime(DateTime.UtcNow));
        if (errors.Count > 0 || plan is null)
        {
            throw new OptimizationValidationException(errors);
        }

        // Before anything is stored: a silo that dies after the first write still has the reminder to bring the job back.
        _recovery = await this.RegisterOrUpdateReminder(RecoveryReminder, _options.RecoveryReminderPeriod, _options.RecoveryReminderPeriod);

        var now = DateTime.UtcNow;
        _job = new WalkForwardJob(plan.Plan.Config, plan.Settings);
        S.Owner = submission.Owner;
        S.ConfigJson = JsonSerializer.Serialize(_job, JsonDefaults.Options);
        S.Name = plan.Plan.Config.Name;
        S.Strategy = plan.Plan.Config.BaseConfig.StrategyClass;
        S.Method = plan.Plan.Config.Method;
        S.ObjectiveMetric = plan.Plan.Config.Objective.Metric;
        S.ObjectiveDirection = plan.Plan.Config.Objective.Direction;
        S.CreatedAt = now;
        S.UpdatedAt = now;
        S.History.Add(new OptimizationStateChange(OptimizationState.Created, now, null));
        S.Windows = plan.Windows.Select(w => new WalkForwardWindowStatus(w.Index, w.InSampleStart, w.InSampleEnd, w.OutOfSampleStart,
            w.OutOfSampleEnd, w.Truncated, WalkForwardWindowState.Optimizing, WalkForwardIds.Optimization(Id, w.Index), null, null, null, null, null)).ToList();
        await _state.WriteStateAsync();
        if (!await _store.CreateAsync(new WalkForwardRecord(Id, S.Owner, S.Name, S.ConfigJson, OptimizationLifecycle.Word(S.State), S.Windows.Count, now)))
        {
            throw new IllegalOptimizationMoveException(S.State, "submit");
        }

        await MoveTo(OptimizationState.Queued, $"{S.Windows.Count} window(s) planned");
        foreach (var window in S.Windows)
        {
            await SubmitOptimization(window);
        }

        StartTimer();
        return Status();
    }

    public Task<WalkForwardStatus> GetStatus()
    {
        EnsureExists();
        return Task.FromResult(Status());
    }

    public async Task<WalkForwardStatus> Cancel()
    {
        EnsureExists();
        if (OptimizationLifecycle.IsTerminal(S.State))
        {
            throw new IllegalOptimizationMoveException(S.State, "cancel");
        }

        await CancelChildren();
        await MoveTo(OptimizationState.Cancelled, "cancelled by request; its children that still ran were cancelled");
        return Status();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!Exists || OptimizationLifecycle.IsTerminal(S.State))
        {
            await UnregisterRecovery();
            return;
        }

        StartTimer();
        await Advance();
    }

    // ---- Advancing the windows -----------------------------------------------------------------------

    private void StartTimer() =>
        _timer ??= this.RegisterGrainTimer(OnTick,
            new GrainTimerCreationOptions(_options.Optimization.ProgressInterval, _options.Optimization.ProgressInterval) { KeepAlive = true });

    private async Task OnTick(CancellationToken cancellation)
    {
        try
        {
            await Advance();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A child unreachable for a moment (its silo going away): the next tick asks again.
            LogStepFailed(e, Id);
        }
    }

    /// <summary>Looks at every window's child and moves the window on; with every window settled, stitches and completes.</summary>
    private async Task Advance()
    {
        for (var i = 0; i < S.Windows.Count && Exists && !OptimizationLifecycle.IsTerminal(S.State); i++)
        {
            var window = S.Windows[i];
            switch (window.State)
            {
                case WalkForwardWindowState.Optimizing:
                    await AdvanceOptimizing(window);
                    break;
                case WalkForwardWindowState.OutOfSample:
                    await AdvanceOutOfSample(window);
                    break;
            }
        }

        if (Exists && !OptimizationLifecycle.IsTerminal(S.State)
            && S.Windows.TrueForAll(w => w.State is WalkForwardWindowState.Completed or WalkForwardWindowState.NoFeasibleTrial))
        {
            await Finish();
        }
    }

    private async Task AdvanceOptimizing(WalkForwardWindowStatus window)
    {
        OptimizationStatus status;
        try
        {
            status = await GrainFactory.GetGrain<IOptimizationGrain>(window.OptimizationId).GetStatus();
        }
        catch (KeyNotFoundException)
        {
            // Recorded but never submitted (the silo died between the two): submit it now, under the same id.
            await SubmitOptimization(window);
            return;
        }

        if (S.State == OptimizationState.Queued && status.State != OptimizationState.Queued)
        {
            await MoveTo(OptimizationState.Running, $"window {window.Index}'s optimization is {status.StateWord}");
        }

        var (step, reason) = WalkForwardWindowRule.AfterOptimization(window.Index, status);
        switch (step)
        {
            case WindowStep.Fail:
                await Fail(reason!);
                break;
            case WindowStep.NoFeasibleTrial:
                await SetWindow(window with { State = WalkForwardWindowState.NoFeasibleTrial }, "without a feasible trial: nothing runs out of sample");
                break;
            case WindowStep.RunOutOfSample:
                var best = status.Best!;
                var chosen = window with
                {
                    State = WalkForwardWindowState.OutOfSample,
                    BacktestId = WalkForwardIds.OutOfSample(Id, window.Index),
                    BestTrial = best.Trial,
                    ParametersJson = best.ParametersJson,
                    InSampleMetricsJson = best.MetricsJson,
                };
                // The choice is stored before the backtest is submitted: a restart submits the same one, under the same id.
                await SetWindow(chosen, $"trial {best.Trial} chosen; out of sample");
                await SubmitOutOfSample(chosen);
                break;
        }
    }

    private async Task AdvanceOutOfSample(WalkForwardWindowStatus window)
    {
        var grain = GrainFactory.GetGrain<IBacktestGrain>(window.BacktestId!.Value);
        BacktestStatus status;
        try
        {
            status = await grain.GetStatus();
        }
        catch (KeyNotFoundException)
        {
            await SubmitOutOfSample(window);
            return;
        }

        var (step, reason) = WalkForwardWindowRule.AfterBacktest(window.Index, status);
        if (step == WindowStep.Fail)
        {
            await Fail(reason!);
        }
        else if (step == WindowStep.Done)
        {
            var result = await grain.GetResults()
                         ?? throw new InvalidOperationException($"window {window.Index}: backtest {window.BacktestId} completed without stored results");
            await SetWindow(window with
            {
                State = WalkForwardWindowState.Completed,
                OutOfSampleMetricsJson = JsonSerializer.Serialize(result.Metrics, JsonDefaults.Options),
            }, "completed out of sample");
        }
    }

    private async Task SubmitOptimization(WalkForwardWindowStatus window)
    {
        try
        {
            await GrainFactory.GetGrain<IOptimizationGrain>(window.OptimizationId)
                .Submit(new OptimizationSubmission(WalkForwardJobRules.InSampleJob(Job.Optimization, window.Window), S.Owner));
        }
        catch (IllegalOptimizationMoveException)
        {
            // Submitted before (a restart): the same job under the same id goes on.
        }
        catch (OptimizationValidationException e)
        {
            await Fail($"window {window.Index}: its in-sample optimization was refused: {e.Message}");
        }
    }

    private async Task SubmitOutOfSample(WalkForwardWindowStatus window)
    {
        var parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(window.ParametersJson!, JsonDefaults.Options)!;
        var config = WalkForwardJobRules.OutOfSampleConfig(Plan(), window.Window, parameters);
        var priority = EnumWords.TryParse<BacktestPriority>(Job.Optimization.Priority, out var word) ? word : BacktestPriority.Normal;
        try
        {
            await GrainFactory.GetGrain<IBacktestGrain>(window.BacktestId!.Value).Submit(new BacktestSubmission(config, S.Owner, priority));
        }
        catch (IllegalTransitionException)
        {
            // Submitted before (a restart): the same backtest under the same id goes on.
        }
        catch (BacktestValidationException e)
        {
            await Fail($"window {window.Index}: its out-of-sample backtest was refused: {e.Message}");
        }
    }

    /// <summary>The stitched result over the windows that ran out of sample, stored once, then the move to Completed.</summary>
    private async Task Finish()
    {
        var plan = Plan();
        var results = new List<WalkForwardWindowResult>();
        var periodsPerYear = 252;
        foreach (var window in S.Windows.Where(w => w.State == WalkForwardWindowState.Completed))
        {
            var result = await GrainFactory.GetGrain<IBacktestGrain>(window.BacktestId!.Value).GetResults()
                         ?? throw new InvalidOperationException($"window {window.Index}: backtest {window.BacktestId} has no stored results");
            periodsPerYear = result.Metrics.PeriodsPerYear;
            results.Add(WalkForwardJobRules.WindowResult(window.Window,
                JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(window.ParametersJson!, JsonDefaults.Options)!,
                WalkForwardWindowRule.InSampleAnnualizedReturn(window.InSampleMetricsJson), result));
        }

        var summary = results.Count == 0
            ? null
            : WalkForwardAnalysis.Summarize(results, plan.BaseSpec.Config.InitialBalance, periodsPerYear, plan.BaseSpec.Config.RiskFreeRate);
        var document = new WalkForwardResultDocument(S.Windows.Select(WalkForwardWindowItem.Of).ToList(), summary);
        await _store.SetResultAsync(Id, JsonSerializer.Serialize(document, JsonDefaults.Options));
        var without = S.Windows.Count(w => w.State == WalkForwardWindowState.NoFeasibleTrial);
        await MoveTo(OptimizationState.Completed, summary is null
            ? "no window had a feasible trial: nothing ran out of sample"
            : $"{results.Count} window(s) stitched out of sample" + (without > 0 ? $", {without} without a feasible trial" : ""));
    }

    // ---- Shared ---------------------------------------------------------------------------------------

    /// <summary>The accepted job's plan made again; its span was judged against the maximum duration at admission, not again.</summary>
    private OptimizationPlan Plan()
    {
        var (errors, plan) = OptimizationValidator.Validate(Job.Optimization, _data, _strategies, ValidationPolicy.Local,
            DateOnly.FromDateTime(DateTime.UtcNow), new OptimizationLimits(long.MaxValue));
        return plan ?? throw new InvalidOperationException(
            "the stored job no longer validates: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")));
    }

    private async Task SetWindow(WalkForwardWindowStatus window, string step)
    {
        S.Windows[window.Index] = window;
        S.UpdatedAt = DateTime.UtcNow;
        await _state.WriteStateAsync();
        LogWindow(Id, window.Index, step);
    }

    private async Task Fail(string reason)
    {
        S.ErrorMessage = reason;
        await CancelChildren();
        await MoveTo(OptimizationState.Failed, reason);
    }

    /// <summary>Cancels the children that still run; one already ended (or never started) is left as it is.</summary>
    private async Task CancelChildren()
    {
        foreach (var window in S.Windows)
        {
            try
            {
                if (window.State == WalkForwardWindowState.Optimizing)
                {
                    await GrainFactory.GetGrain<IOptimizationGrain>(window.OptimizationId).Cancel();
                }
                else if (window is { State: WalkForwardWindowState.OutOfSample, BacktestId: { } backtest })
                {
                    await GrainFactory.GetGrain<IBacktestGrain>(backtest).Cancel();
                }
            }
            catch (Exception e) when (e is IllegalOptimizationMoveException or IllegalTransitionException or KeyNotFoundException)
            {
                // Ended already, or never submitted.
            }
        }
    }

    /// <summary>Moves the job, persisting the grain state and then the walkforwards row before anyone is told.</summary>
    private async Task MoveTo(OptimizationState state, string? detail)
    {
        if (!OptimizationLifecycle.CanMove(S.State, state))
        {
            throw new IllegalOptimizationMoveException(S.State, $"move to {OptimizationLifecycle.Word(state)}");
        }

        var now = DateTime.UtcNow;
        S.State = state;
        S.UpdatedAt = now;
        S.History.Add(new OptimizationStateChange(state, now, detail));
        if (state == OptimizationState.Running)
        {
            S.StartedAt ??= now;
        }

        var terminal = OptimizationLifecycle.IsTerminal(state);
        if (terminal)
        {
            S.CompletedAt = now;
        }

        await _state.WriteStateAsync();
        await _store.SetStatusAsync(Id, OptimizationLifecycle.Word(state), S.ErrorMessage, S.StartedAt, S.CompletedAt);
        LogMoved(Id, state, detail);
        if (terminal)
        {
            _timer?.Dispose();
            _timer = null;
            await UnregisterRecovery();
        }
    }

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
            throw new KeyNotFoundException($"walk-forward {Id} does not exist");
        }
    }

    private WalkForwardStatus Status() => new(Id, S.State, S.Owner, S.Name, S.Strategy, S.Method, S.CreatedAt, S.UpdatedAt, S.StartedAt,
        S.CompletedAt, S.ErrorMessage, S.Windows.ToList(), S.History.ToList(), S.ObjectiveMetric, S.ObjectiveDirection, S.ConfigJson ?? "{}");
}
