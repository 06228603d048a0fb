using Backtesting.Engine.Data;
using Backtesting.Grains.Runners;

namespace Backtesting.Tests.Runners;

/// <summary>
/// A run's controls after its end, for every runner that runs in this process's tests: a grain's stop (a job failing, a
/// cancel) may come in while its supervision disposes the handle of a run that just ended, and must then do nothing
/// rather than throw (a process runner's stop once threw "No process is associated with this object" there, and the job
/// that asked ended completed although a batch had failed).
/// </summary>
public sealed class RunHandleControlsTests
{
    /// <summary>Runners whose run of an invalid config ends at once.</summary>
    public static TheoryData<string> Runners => ["process", "inProcess"];

    private static IBacktestRunner Runner(string kind) => kind switch
    {
        // Any program that exits at once stands for a worker that just ended.
        "process" => new ProcessRunner(new WorkerCommand("true", [])),
        "inProcess" => new InProcessRunner(new LeanDataProvider(TestPaths.LeanData)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static RunRequest Request(TempFolder temp) =>
        new(Guid.NewGuid(), 1, "{}", temp.File("run-" + Guid.NewGuid().ToString("N")), TestPaths.LeanData, false, TimeSpan.FromSeconds(5));

    [Theory]
    [MemberData(nameof(Runners))]
    public async Task Every_control_of_an_ended_and_disposed_run_does_nothing(string kind)
    {
        using var temp = new TempFolder();
        var runner = Runner(kind);
        var run = await runner.StartAsync(Request(temp), CancellationToken.None);
        await run.Exit.WaitAsync(TimeSpan.FromSeconds(30));
        await run.DisposeAsync();

        await run.PauseAsync();
        await run.ResumeAsync();
        await run.StopAsync(TimeSpan.FromSeconds(1));
        await run.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Runners))]
    public async Task A_stop_racing_the_disposal_of_a_run_that_ended_never_throws(string kind)
    {
        using var temp = new TempFolder();
        var runner = Runner(kind);
        for (var round = 0; round < 40; round++)
        {
            var run = await runner.StartAsync(Request(temp), CancellationToken.None);
            await run.Exit.WaitAsync(TimeSpan.FromSeconds(30));
            var stops = Enumerable.Range(0, 4).Select(_ => Task.Run(() => run.StopAsync(TimeSpan.FromSeconds(1)))).ToList();
            var disposal = Task.Run(async () => await run.DisposeAsync());
            var pauses = Enumerable.Range(0, 4).Select(_ => Task.Run(run.PauseAsync)).ToList();
            await Task.WhenAll([.. stops, disposal.WaitAsync(TimeSpan.FromSeconds(30)), .. pauses]);
        }
    }
}
