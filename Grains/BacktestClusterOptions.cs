using System.Globalization;
using Backtesting.Engine.Configuration;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.Options;

namespace Backtesting.Grains;

/// <summary>The cluster's settings for running backtests (section "Backtesting" of the silo's configuration).</summary>
public sealed class BacktestClusterOptions
{
    public const string Section = "Backtesting";

    /// <summary>inProcess | process | docker.</summary>
    public string Runner { get; set; } = "process";
    /// <summary>
    /// The worker the process runner starts: a published worker's executable, a Backtesting.Worker.dll, or empty for
    /// the one built beside the silo (see <see cref="WorkerCommand.For"/>).
    /// </summary>
    public string WorkerPath { get; set; } = "";
    /// <summary>The market data folder (LEAN layout); empty = located like the worker does.</summary>
    public string DataDirectory { get; set; } = "";
    /// <summary>Where runs write their output folders (results, checkpoints) while they run.</summary>
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "backtesting-runs");
    public int MaxConcurrent { get; set; } = 4;
    public int MaxConcurrentPerOwner { get; set; } = 2;
    public TimeSpan StandardTimeout { get; set; } = TimeSpan.FromMinutes(30);
    public TimeSpan LongTimeout { get; set; } = TimeSpan.FromHours(2);
    /// <summary>From this many instruments on, a backtest gets <see cref="LongTimeout"/>.</summary>
    public int ManyInstrumentsThreshold { get; set; } = 10;
    /// <summary>Attempts per backtest when a run dies (crash, killed process); deterministic failures are not retried.</summary>
    public int MaxAttempts { get; set; } = 3;
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How often progress is written to PostgreSQL while a run streams it (events go out at once).</summary>
    public TimeSpan ProgressPersistInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>How often a running backtest renews its slot, syncs its checkpoint and checks its timeout.</summary>
    public TimeSpan SupervisionTick { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>A slot not renewed for this long is reclaimed by the queue.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>
    /// How long the queue keeps an ended item's place answerable (<see cref="QueueBook.PlaceOf"/>): a client polling the place
    /// of a backtest that was just granted a slot and ended sees it ended, not gone.
    /// </summary>
    public TimeSpan QueuePlaceRetention { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>Period of the reminder that brings a backtest back on another silo after a crash.</summary>
    public TimeSpan RecoveryReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>
    /// A starting or running attempt that prints no protocol line for this long is stopped and killed by its silo and
    /// ends timed out, without a retry (the worker prints progress at least once a second while its engine moves). The
    /// worker gets it too (--stall-seconds) and stops itself first where it can.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>The longest protocol line a silo reads from a worker; a longer one (or output without newlines) fails the run.</summary>
    public int MaxProtocolLineBytes { get; set; } = Protocol.WorkerLineReader.DefaultMaxLineBytes;
    /// <summary>The largest results.json a silo reads; a larger one fails the run.</summary>
    public long MaxResultsBytes { get; set; } = Protocol.ResultsFile.DefaultMaxBytes;
    /// <summary>
    /// How long a backtest or an optimization batch waits for a cluster it cannot reach (the queue grain's silo or other
    /// silos away while membership churns after kills) before it gives up and fails: within it, the run is taken up again
    /// once the cluster answers (<see cref="Supervision.UnreachableWait"/>).
    /// </summary>
    public TimeSpan ClusterUnreachableGrace { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>How long a stopped run may take to write partial results before it is killed.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Lets the local process runner run custom strategies. For development only: the sandbox's allow-list is then
    /// the only wall, with no container around the run. Off by default; the in-process runner never runs them.
    /// </summary>
    public bool AllowCustomStrategiesInProcessRunner { get; set; }
    /// <summary>
    /// The process runner's heap limit for each worker, in MB (DOTNET_GCHeapHardLimit), so a run that allocates
    /// without bound fails with a memory error instead of exhausting the machine; 0 = no limit.
    /// </summary>
    public int WorkerHeapLimitMegabytes { get; set; }
    /// <summary>How long compiling an uploaded custom strategy may take (the worker's compile timeout).</summary>
    public TimeSpan CompileTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Compiles a silo runs at once (all users); see <see cref="CompileScheduler"/>.</summary>
    public int MaxConcurrentCompiles { get; set; } = 2;
    /// <summary>Compiles one user may run at once on a silo.</summary>
    public int MaxConcurrentCompilesPerOwner { get; set; } = 1;
    /// <summary>Compiles one user may have waiting on a silo; more are refused with 429 and Retry-After.</summary>
    public int MaxQueuedCompilesPerOwner { get; set; } = 2;
    /// <summary>The Docker runner: image, sandbox limits, the memory cap for out-of-memory retries, fallback.</summary>
    public DockerRunnerOptions Docker { get; set; } = new();
    /// <summary>Optimization jobs: trials per batch, batches in flight, how often trials are stored and progress published.</summary>
    public OptimizationRunOptions Optimization { get; set; } = new();

    /// <summary>
    /// The longest date range the cluster admits (Backtesting:MaxDurationYears): a backtest's, an optimization's base
    /// config's and a walk-forward's whole span, in calendar years (1 to 200), or <c>none</c> for no limit; read by
    /// <see cref="ValidationPolicy.FromSetting"/>, checked when the silo starts (<see cref="BacktestClusterOptionsValidator"/>).
    /// Every silo of a cluster must have the same value; the API asks the cluster for it (<see cref="ClusterSettingsGrain"/>).
    /// </summary>
    public string MaxDurationYears { get; set; } = ValidationPolicy.DefaultMaxDurationYears.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The admission rules of <see cref="MaxDurationYears"/> (a method, so that binding the section never reads it); a silo
    /// whose setting is not one does not start (<see cref="BacktestClusterOptionsValidator"/>).
    /// </summary>
    public ValidationPolicy AdmissionPolicy() => ValidationPolicy.FromSetting(MaxDurationYears) is { Policy: { } policy } ? policy
        : throw new InvalidOperationException(ValidationPolicy.FromSetting(MaxDurationYears).Error);

    public TimeSpan TimeoutFor(int instrumentCount) =>
        instrumentCount >= ManyInstrumentsThreshold ? LongTimeout : StandardTimeout;
}

/// <summary>Stops a silo whose settings cannot mean anything (<see cref="BacktestClusterOptions.MaxDurationYears"/>) at start-up, naming the setting.</summary>
public sealed class BacktestClusterOptionsValidator : IValidateOptions<BacktestClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, BacktestClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ValidationPolicy.FromSetting(options.MaxDurationYears).Error is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
