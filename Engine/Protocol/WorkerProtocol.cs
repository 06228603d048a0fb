namespace Backtesting.Engine.Protocol;

// The worker's side of the protocol besides its stdout lines (Messages.cs): how it ends (its exit code) and the
// files it reads and writes in its output folder. The worker, the silo's supervision and the runners all name
// them from here; docs/worker.md documents them.

/// <summary>The worker's exit codes; documented in docs/worker.md. Supervisors branch on them.</summary>
public static class ExitCodes
{
    /// <summary>The backtest completed; results.json is complete.</summary>
    public const int Completed = 0;
    /// <summary>The run failed while executing or reading data; a backtest_error line says why.</summary>
    public const int Failed = 1;
    /// <summary>The config is invalid; every error was reported and nothing was written.</summary>
    public const int InvalidConfig = 2;
    /// <summary>The command line is wrong (missing or unknown arguments).</summary>
    public const int Usage = 3;
    /// <summary>Stopped by SIGTERM/SIGINT: results.json holds partial results marked partial: true.</summary>
    public const int Stopped = 4;
    /// <summary>--resume found a checkpoint that does not belong to this config and data.</summary>
    public const int CheckpointMismatch = 5;
    /// <summary>compile: the strategy source was rejected; the printed JSON lists every diagnostic with its line.</summary>
    public const int CompileFailed = 6;
    /// <summary>--timeout-seconds or --stall-seconds ran out; a backtest_error line of type timeout says which.</summary>
    public const int TimedOut = 7;

    /// <summary>Every exit code the worker defines, in numeric order.</summary>
    public static IReadOnlyList<int> All { get; } =
        [Completed, Failed, InvalidConfig, Usage, Stopped, CheckpointMismatch, CompileFailed, TimedOut];
}

/// <summary>The names of the files in a run's output folder that the worker and its supervisor share.</summary>
public static class WorkerFiles
{
    /// <summary>The run's config, written by the supervisor and read by the worker (<c>--config</c>).</summary>
    public const string Config = "config.json";

    /// <summary>The run's results, written atomically by the worker at its end (partial when it was stopped).</summary>
    public const string Results = "results.json";

    /// <summary>Where the run had got to, written atomically by the worker; the supervisor keeps it to resume from.</summary>
    public const string Checkpoint = "checkpoint.json";

    /// <summary>A custom strategy's source, written by the supervisor beside the config (and compiled under this name).</summary>
    public const string StrategySource = "strategy.cs";

    /// <summary><c>compile --output</c>: the compile result (the JSON the command prints).</summary>
    public const string CompileResult = "compile.json";

    /// <summary><c>compile --output</c>: the compiled assembly, when the source compiled.</summary>
    public const string CompiledAssembly = "strategy.dll";

    /// <summary>
    /// A batch's precompiled custom strategy: the folder (in the run folder, written by the supervisor, read-only to the
    /// worker) holding a compile-only run's <see cref="CompileResult"/> and <see cref="CompiledAssembly"/>.
    /// </summary>
    public const string PrecompiledStrategy = "precompiled";
}
