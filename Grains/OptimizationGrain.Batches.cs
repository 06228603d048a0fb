using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Optimization;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Optimization;
using Backtesting.Storage;

namespace Backtesting.Grains;

// The job's batches: proposing them, starting them, hearing from them, and ending the job when they are done.
public sealed partial class OptimizationGrain
{
    /// <summary>Most trials read from the store in one page when TPE needs every finished trial.</summary>
    private const int TrialPage = 5000;

    public async Task OnTrialsStored(int batch, IReadOnlyList<StoredTrial> trials)
    {
        if (!Exists || trials.Count == 0 || OptimizationLifecycle.IsTerminal(S.State))
        {
            // Reports are one way and may come late: a job that ended re-read its counts from the stored trials.
            return;
        }

        S.TrialsCompleted += trials.Count;
        S.TrialsFeasible += trials.Count(t => t.Feasible);
        S.Best = OptimizationTally.Best(Plan.Rules, S.Best, trials);
        if (Plan.Target is { } target && S.Best is { } best && Plan.Rules.Objective.Reached(best.Objective, target) && !S.TargetReached)
        {
            S.TargetReached = true;
            LogTargetReached(Id, best.Trial, best.Objective);
        }

        _dirty = true;
        await Publish(OptimizationEvents.Trials(Id, trials.Select(t => OptimizationEvents.Item(t.Trial, t.ParametersJson, t.MetricsJson,
            t.TradeCount, t.Feasible, t.InfeasibleReason, t.Objective, t.ContentHash)).ToList()));
    }

    public async Task OnBatchChanged(OptimizationBatchReport report)
    {
        if (!Exists || !Apply(report) || OptimizationLifecycle.IsTerminal(S.State))
        {
            return;
        }

        switch (report.State)
        {
            case OptimizationBatchState.Running when S.State == OptimizationState.Queued:
                await MoveTo(OptimizationState.Running, $"batch {report.Batch} started");
                break;
            case OptimizationBatchState.Failed:
                await Fail($"batch {report.Batch} failed: {report.Error}");
                break;
            case OptimizationBatchState.Completed:
                await FillBatches();
                break;
        }
    }

    /// <summary>Takes a batch's report unless the job has a newer one; true when taken.</summary>
    private bool Apply(OptimizationBatchReport report)
    {
        if (report.Batch < 0 || report.Batch >= S.Batches.Count || report.Version <= S.Batches[report.Batch].Version)
        {
            return false;
        }

        S.Batches[report.Batch] = S.Batches[report.Batch] with { State = report.State, Version = report.Version };
        _dirty = true;
        return true;
    }

    /// <summary>
    /// Starts batches while the job runs, up to the batches in flight a job may have (one for TPE, which proposes each
    /// batch from every trial finished before it), until every trial is proposed or the target is reached; then, with no
    /// batch left in flight, completes the job. Each batch is recorded (state written) before it is started, so a job
    /// recovered on another silo starts a recorded batch again with the same trials rather than proposing others.
    /// </summary>
    private async Task FillBatches()
    {
        try
        {
            foreach (var record in S.Batches.Where(b => b.State == OptimizationBatchState.None).ToList())
            {
                if (S.State is not (OptimizationState.Queued or OptimizationState.Running))
                {
                    return;
                }

                Apply(await StartBatch(record, await PointsOf(record)));
            }

            while (S.State is OptimizationState.Queued or OptimizationState.Running
                   && !S.TargetReached && !S.Exhausted && S.ProposedTrials < S.PlannedTrials
                   && S.Batches.Count(b => OptimizationBatchReport.InFlight(b.State))
                   < (Plan.Method == SearchMethodKind.Tpe ? 1 : Math.Max(1, _options.Optimization.BatchesInFlight)))
            {
                var points = await Propose(Math.Min(S.BatchTrials, S.PlannedTrials - S.ProposedTrials));
                if (points.Count == 0)
                {
                    S.Exhausted = true;
                    await _state.WriteStateAsync();
                    break;
                }

                var record = new BatchRecord(S.Batches.Count, points[0].Trial, points.Count, OptimizationBatchState.None, 0);
                S.Batches.Add(record);
                S.ProposedTrials += points.Count;
                _proposed?.AddRange(points);
                await _state.WriteStateAsync();
                Apply(await StartBatch(record, points));
            }

            await CompleteIfDone();
        }
        catch (InvalidOperationException e) when (!OptimizationLifecycle.IsTerminal(S.State))
        {
            await Fail(e.Message);
        }
    }

    private async Task CompleteIfDone()
    {
        if (S.State is not (OptimizationState.Queued or OptimizationState.Running))
        {
            return;
        }

        switch (JobEndRule.Decide(S.Batches, S.TargetReached, S.Exhausted, S.ProposedTrials, S.PlannedTrials, S.ErrorMessage))
        {
            case JobEnd.Fail fail:
                await Fail(fail.Reason);
                break;
            case JobEnd.Complete complete:
                await Resync();
                await MoveTo(OptimizationState.Completed, complete.Detail);
                break;
        }
    }

    private Task<OptimizationBatchReport> StartBatch(BatchRecord record, IReadOnlyList<TrialPoint> points)
    {
        var batch = new OptimizationBatch
        {
            OptimizationId = Id.ToString(),
            Batch = record.Number,
            Config = Plan.Config,
            Trials = points.Select(p => new BatchTrial { Trial = p.Trial, Parameters = new Dictionary<string, JsonElement>(p.Parameters) }).ToList(),
        };
        return Batch(record.Number).Start(new OptimizationBatchOrder(Id, record.Number, S.Owner, S.Priority,
            JsonSerializer.Serialize(batch, JsonDefaults.Options), points.Select(p => p.Trial).ToList(), S.StrategyId, S.StrategyVersion,
            S.BatchCpus));
    }

    /// <summary>The next trials of the job's method.</summary>
    private async Task<IReadOnlyList<TrialPoint>> Propose(int count)
    {
        var method = Plan.CreateMethod();
        if (Plan.Method == SearchMethodKind.Tpe)
        {
            var (proposed, finished) = await FinishedTrials(S.ProposedTrials);
            if (proposed.Count != S.ProposedTrials)
            {
                throw new InvalidOperationException(
                    $"{S.ProposedTrials - proposed.Count} proposed trial(s) were never stored, so TPE cannot propose the next batch from them");
            }

            return method.Propose(proposed, finished, count);
        }

        _proposed ??= method.Propose([], [], S.ProposedTrials).ToList();
        return method.Propose(_proposed, [], count);
    }

    /// <summary>The trials of a batch recorded but never started: proposed again, as they were (the methods are pure).</summary>
    private async Task<IReadOnlyList<TrialPoint>> PointsOf(BatchRecord record)
    {
        var method = Plan.CreateMethod();
        if (Plan.Method == SearchMethodKind.Tpe)
        {
            var (proposed, finished) = await FinishedTrials(record.FirstTrial);
            return method.Propose(proposed, finished, record.Count);
        }

        _proposed ??= method.Propose([], [], S.ProposedTrials).ToList();
        return _proposed.Skip(record.FirstTrial).Take(record.Count).ToList();
    }

    /// <summary>The stored trials numbered below <paramref name="before"/>, by number: what TPE's proposals are a function of.</summary>
    private async Task<(List<TrialPoint> Proposed, List<TrialOutcome> Finished)> FinishedTrials(int before)
    {
        var finished = new List<TrialOutcome>();
        for (var page = 1; ; page++)
        {
            var rows = await _store.TrialsAsync(Id, new TrialQuery(Page: page, PageSize: TrialPage));
            finished.AddRange(rows.Items.Where(r => r.TrialNumber < before).Select(r => new TrialOutcome
            {
                Trial = r.TrialNumber,
                Parameters = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(r.ParametersJson, JsonDefaults.Options)!,
                Feasible = r.Feasible,
                InfeasibleReason = r.InfeasibleReason,
                ObjectiveValue = r.Objective,
                ContentHash = r.ContentHash,
            }));
            if (rows.Items.Count < TrialPage)
            {
                break;
            }
        }

        finished.Sort((a, b) => a.Trial.CompareTo(b.Trial));
        return (finished.Select(t => new TrialPoint(t.Trial, t.Parameters)).ToList(), finished);
    }

    /// <summary>Stops every batch still working (paused ones too when cancelling); each finishes its current trial first.</summary>
    private async Task StopBatches(bool cancel)
    {
        var stopping = S.Batches
            .Where(b => OptimizationBatchReport.InFlight(b.State) || (cancel && b.State == OptimizationBatchState.Paused))
            .Select(b => StopBatch(b.Number, cancel))
            .ToList();
        foreach (var report in await Task.WhenAll(stopping))
        {
            if (report is not null)
            {
                Apply(report);
            }
        }

        await _state.WriteStateAsync();
        _dirty = false;
    }

    /// <summary>
    /// Stops one batch; a stop that fails for another reason than the database being away is logged and leaves that batch
    /// as it is (it reports its own end later), so one batch never keeps the job from its decision (a failure, a cancel).
    /// </summary>
    private async Task<OptimizationBatchReport?> StopBatch(int number, bool cancel)
    {
        try
        {
            return await Batch(number).Stop(cancel);
        }
        catch (Exception e) when (!DatabaseFaults.IsUnavailable(e))
        {
            LogBatchStopFailed(e, Id, number);
            return null;
        }
    }

    private async Task Fail(string reason)
    {
        LogFailed(Id, reason);
        S.ErrorMessage = reason;
        await StopBatches(cancel: true);
        await Resync();
        await MoveTo(OptimizationState.Failed, reason);
    }
}
