using System.Threading.Channels;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Grains.Runners;

/// <summary>What a runner needs to start one attempt of a backtest's worker.</summary>
/// <param name="OutputDirectory">Where the worker writes results.json and checkpoint.json for this attempt.</param>
/// <param name="Resume">Start with --resume from the checkpoint.json already placed in the output directory.</param>
/// <param name="MemoryLimitBytes">The run's memory limit where the runner enforces one (Docker); null: the runner's default.</param>
/// <param name="StrategySource">
/// The C# source of the custom strategy the config's strategyClass names; null for a template. Only runners that
/// isolate the run (Docker), or the process runner when explicitly allowed for development, accept one.
/// </param>
/// <param name="MaxLineBytes">The longest stdout line the runner hands on; past it the run fails (Backtesting:MaxProtocolLineBytes).</param>
/// <param name="Timeout">The worker's own overall timeout (--timeout-seconds): what is left of the run's budget; null: none.</param>
/// <param name="StallTimeout">The worker's own stall limit (--stall-seconds); null: none.</param>
/// <param name="BatchJson">
/// Set for a batch of an optimization job: the run is <c>worker optimize-batch</c> over this batch.json (written next to
/// the config) instead of a backtest, and a new run over the same folder goes on from its checkpoint (trials-done.txt).
/// <see cref="ConfigJson"/> is then the job's base config (what the Docker runner's bar cache is built for), and
/// <see cref="BacktestId"/> the batch's id (what names and labels its container).
/// </param>
/// <param name="Cpus">The CPU cores the run may use where the runner enforces a limit (Docker); null: the runner's own.</param>
/// <param name="StrategyAssembly">
/// For a batch of a custom strategy (<see cref="StrategySource"/> set too): the assembly a compile-only run made of that
/// source, which the runner hands the worker read-only (<c>--strategy-assembly</c>) instead of the source; the worker
/// verifies it before loading it. Null: the worker compiles the source itself.
/// </param>
public sealed record RunRequest(
    Guid BacktestId,
    int Attempt,
    string ConfigJson,
    string OutputDirectory,
    string DataDirectory,
    bool Resume,
    TimeSpan CheckpointInterval,
    long? MemoryLimitBytes = null,
    string? StrategySource = null,
    int MaxLineBytes = Protocol.WorkerLineReader.DefaultMaxLineBytes,
    TimeSpan? Timeout = null,
    TimeSpan? StallTimeout = null,
    string? BatchJson = null,
    double? Cpus = null,
    CompiledStrategyFiles? StrategyAssembly = null);

/// <summary>
/// A precompiled custom strategy as a batch's worker reads it: the assembly and the compile result (compile.json) of the
/// compile-only run that made it, whose assembly hash and compiler version the worker checks.
/// </summary>
public sealed record CompiledStrategyFiles(byte[] Assembly, string CompileResultJson);

/// <summary>A runner was asked to run a custom strategy it may not run; the message says what to change.</summary>
public sealed class CustomStrategyRefusedException(string message) : InvalidOperationException(message);

/// <summary>How a run ended, as the runner saw it.</summary>
/// <param name="ExitCode">The worker's exit code (see the worker's ExitCodes); 137 and the like for a kill.</param>
/// <param name="OutOfMemory">The runner saw the run killed for exceeding its memory limit.</param>
/// <param name="Detail">What the runner knows beyond the code, e.g. that the container disappeared.</param>
/// <param name="Fatal">
/// Why the run died in a way a retry would only repeat (see <see cref="WorkerCrash"/>); null for a death a retry may
/// get past (a kill, a lost silo or container).
/// </param>
/// <param name="Interrupted">
/// The runner lost the run rather than saw it end: its daemon stopped answering while the run lasted (a restart). The
/// cluster's fault, not the worker's death: such an attempt does not count against MaxAttempts (<c>RunEndRule</c>).
/// </param>
public sealed record RunExit(int ExitCode, bool OutOfMemory = false, string? Detail = null, string? Fatal = null, bool Interrupted = false)
{
    /// <summary>A worker that ended by itself, told apart by what it wrote to stderr when it died.</summary>
    public static RunExit Of(int exitCode, string stderr, bool outOfMemory = false, string? detail = null) =>
        WorkerCrash.Fatal(exitCode, stderr) is { } fatal
            ? new RunExit(exitCode, outOfMemory, detail ?? fatal, fatal)
            : new RunExit(exitCode, outOfMemory, detail);
}

/// <summary>
/// One running attempt: its protocol lines, its end, and the controls a grain needs. Pause, resume and stop of a run that
/// ended, even one whose handle is being or was disposed, do nothing and never throw; disposing twice is harmless.
/// </summary>
public interface IRunHandle : IAsyncDisposable
{
    /// <summary>The worker's stdout, line by line (the JSON protocol); completes when the run ends.</summary>
    ChannelReader<string> Lines { get; }

    /// <summary>Completes when the run has ended and its output is complete.</summary>
    Task<RunExit> Exit { get; }

    /// <summary>The worker's process id when it runs as a process of this host (to find it again), else null.</summary>
    int? ProcessId { get; }

    /// <summary>The container running the attempt (Docker), else null.</summary>
    string? Container => null;

    /// <summary>
    /// Resource usage measured from outside the worker (Docker's stats stream), when the runner has it; completes
    /// when the run ends. Written from library callbacks: the grain reads it, nothing else touches its state.
    /// </summary>
    ChannelReader<ResourceUsage>? Resources => null;

    /// <summary>
    /// Set when the runner took over a run already in progress (a container a dead silo left running) instead of
    /// starting one: the output folder that run writes to, which the grain reads from then on.
    /// </summary>
    string? ReattachedOutputDirectory => null;

    Task PauseAsync();

    Task ResumeAsync();

    /// <summary>Asks the run to stop with partial results, and kills it after <paramref name="grace"/>.</summary>
    Task StopAsync(TimeSpan grace);
}

/// <summary>
/// Runs backtest workers. Three implementations share this interface: in-process (the worker's code on a
/// thread of the silo, for development and tests), local process (the worker as a child process) and Docker.
/// Grains choose one by configuration and know nothing else about it.
/// </summary>
public interface IBacktestRunner
{
    /// <summary>A short name for logs and attempt records: inProcess, process, docker.</summary>
    string Kind { get; }

    Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation);

    /// <summary>
    /// Runs <c>worker compile</c> on a custom strategy's source under the same isolation as this runner's runs
    /// (compiling runs none of the strategy's code, but the compiler itself reads hostile input). Runners that may not run
    /// custom strategies refuse, as they refuse to run one.
    /// </summary>
    /// <exception cref="CustomStrategyRefusedException">This runner does not run custom strategies.</exception>
    Task<CompileOutput> CompileStrategyAsync(CompileRequest request, CancellationToken cancellation) =>
        throw new CustomStrategyRefusedException(
            $"the {Kind} runner does not compile or run custom strategies: they need the docker runner (Backtesting:Runner = docker)");

    /// <summary>
    /// The identity of the worker this runner starts (the Docker runner's image id, the process runner's worker files), so a
    /// compile made by one worker is only ever reused by the same worker; null when this runner runs no custom strategies.
    /// </summary>
    Task<string?> WorkerVersionAsync(CancellationToken cancellation) => Task.FromResult<string?>(null);
}

/// <summary>A compile of a custom strategy's source.</summary>
/// <param name="Directory">A fresh folder for strategy.cs (the worker reads it there).</param>
/// <param name="DataDirectory">The market data folder (mounted like a run's, though compiling reads none of it).</param>
/// <param name="Timeout">The worker's own compile timeout; the runner kills the compile a little after it.</param>
/// <param name="KeepAssembly">Also write compile.json and strategy.dll into the folder (<c>compile --output</c>), for a compile made once and reused.</param>
public sealed record CompileRequest(string Source, string Directory, string DataDirectory, TimeSpan Timeout, bool KeepAssembly = false)
{
    /// <summary>How long past <see cref="Timeout"/> the runner waits before it kills a compile that did not stop itself.</summary>
    public static readonly TimeSpan KillSlack = TimeSpan.FromSeconds(15);

    /// <summary>When the runner kills a compile still running: <see cref="Timeout"/> plus <see cref="KillSlack"/>.</summary>
    public TimeSpan KillAfter => Timeout + KillSlack;

    /// <param name="outputDirectory">The folder as the worker sees it (a container mounts it elsewhere).</param>
    public List<string> WorkerArguments(string sourcePath, string outputDirectory) =>
        ["compile", "--source", sourcePath, "--timeout-seconds",
            Math.Max(1, (int)Math.Ceiling(Timeout.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. KeepAssembly ? new[] { "--output", outputDirectory } : []];
}

/// <summary>What <c>worker compile</c> printed (the CompileResult JSON on stdout) and how it ended.</summary>
/// <param name="Killed">The runner killed the compile after its timeout (stdout may then be empty).</param>
public sealed record CompileOutput(int ExitCode, string Stdout, string Stderr, bool Killed);

/// <summary>The runner cannot start runs at all (e.g. the Docker daemon is unreachable): retrying will not help.</summary>
public sealed class RunnerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The runner cannot start a run for now, though it could a moment ago (the Docker daemon is restarting): the run is tried
/// again shortly, and the backtest does not fail for it.
/// </summary>
public sealed class RunnerInterruptedException(string message, Exception? inner = null) : Exception(message, inner);
