namespace Backtesting.Worker;

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
}
