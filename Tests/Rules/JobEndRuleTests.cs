using Backtesting.Grains;
using Backtesting.Grains.Optimization;

namespace Backtesting.Tests.Rules;

/// <summary>When a running optimization job ends: every pair of batch states, with and without more trials to propose.</summary>
public sealed class JobEndRuleTests
{
    private static BatchRecord Batch(int number, OptimizationBatchState state) => new(number, number * 10, 10, state, 1);

    [Fact]
    public void Every_pair_of_batch_states_ends_the_job_as_the_rule_says_and_never_completes_it_over_a_batch_that_did_not_complete()
    {
        var states = Enum.GetValues<OptimizationBatchState>();
        foreach (var first in states)
        {
            foreach (var second in states)
            {
                foreach (var (target, exhausted, proposed) in new[] { (false, false, 20), (false, false, 15), (true, false, 15), (false, true, 15) })
                {
                    foreach (var failure in new[] { null, "batch 0 failed: refused" })
                    {
                        BatchRecord[] batches = [Batch(0, first), Batch(1, second)];
                        var end = JobEndRule.Decide(batches, target, exhausted, proposed, 20, failure);
                        var what = $"{first}, {second}, target {target}, exhausted {exhausted}, proposed {proposed}, failure {failure}";

                        // Written out again, one case at a time.
                        var anyFailed = first == OptimizationBatchState.Failed || second == OptimizationBatchState.Failed;
                        var working = batches.Any(b => b.State is OptimizationBatchState.None or OptimizationBatchState.Queued
                            or OptimizationBatchState.Running or OptimizationBatchState.Paused);
                        var anyCancelled = first == OptimizationBatchState.Cancelled || second == OptimizationBatchState.Cancelled;
                        var moreToPropose = !target && !exhausted && proposed < 20;
                        if (anyFailed)
                        {
                            var fail = Assert.IsType<JobEnd.Fail>(end);
                            Assert.Equal(failure ?? $"batch {(first == OptimizationBatchState.Failed ? 0 : 1)} failed", fail.Reason);
                        }
                        else if (working)
                        {
                            Assert.True(end is JobEnd.None, what);
                        }
                        else if (anyCancelled)
                        {
                            Assert.True(end is JobEnd.Fail, what);
                        }
                        else if (moreToPropose)
                        {
                            Assert.True(end is JobEnd.None, what);
                        }
                        else
                        {
                            Assert.Equal(new JobEnd.Complete(target ? "the best reached the target" : "every planned trial ran"), end);
                        }

                        if (end is JobEnd.Complete)
                        {
                            Assert.All(batches, b => Assert.Equal(OptimizationBatchState.Completed, b.State));
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void A_job_with_no_batch_yet_waits_unless_nothing_is_to_be_proposed()
    {
        Assert.IsType<JobEnd.None>(JobEndRule.Decide([], false, false, 0, 20, null));
        Assert.IsType<JobEnd.Complete>(JobEndRule.Decide([], false, true, 0, 20, null));
    }
}
