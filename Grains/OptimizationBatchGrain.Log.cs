using Microsoft.Extensions.Logging;

namespace Backtesting.Grains;

// The optimization batch grain's log messages, source-generated.
public sealed partial class OptimizationBatchGrain
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Optimization {JobId} batch {Batch} ({Id}) lost its run; restarting it from its checkpoint")]
    private partial void LogRunLost(Guid id, Guid jobId, int batch);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Optimization batch {Id} of {JobId} cannot start: {Reason}")]
    private partial void LogRunnerUnavailable(Guid id, Guid jobId, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Optimization batch {Id}: {Reason}")]
    private partial void LogProtocolBroken(Guid id, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Supervising optimization batch {Id} failed")]
    private partial void LogSupervisionFailed(Exception exception, Guid id);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning,
        Message = "Optimization batch {Id}: dropped a line from its worker ({Reason}); further ones are only counted")]
    private partial void LogLineDropped(Guid id, string? reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning,
        Message = "Optimization {JobId} batch {Batch} ({Id}): its worker ended with exit code {ExitCode} (run {Attempt}); running it again from its checkpoint")]
    private partial void LogRetry(Guid id, Guid jobId, int batch, int exitCode, int attempt);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Optimization batch {Id}: {Reason}")]
    private partial void LogReturnsUnreadable(Guid id, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Optimization batch {Id}: the silo stops its run: {Reason}")]
    private partial void LogStalled(Guid id, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning,
        Message = "Optimization batch {Id}: {Pending} trial(s) not stored yet, the database is away ({Reason}); tried again shortly")]
    private partial void LogTrialsNotStoredYet(Guid id, int pending, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning,
        Message = "Optimization batch {Id}: the database went away while its run was wound up; taken up again once it answers")]
    private partial void LogSupervisionInterruptedByDatabase(Exception exception, Guid id);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Optimization batch {Id}: taking it up again failed; tried again shortly")]
    private partial void LogRecoveryRetryFailed(Exception exception, Guid id);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Optimization batch {Id} of job {JobId}: its run could not start for now ({Reason}); trying again shortly")]
    private partial void LogRunnerInterrupted(Guid id, Guid jobId, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning,
        Message = "Optimization {JobId} batch {Batch} ({Id}): {Missing} finished trial(s) were never stored (their lines were missed while no silo read them); running it again from an empty checkpoint")]
    private partial void LogFreshRun(Guid id, Guid jobId, int batch, int missing);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning,
        Message = "Optimization {JobId} batch {Batch} ({Id}): its run was interrupted ({Reason}); starting it again from its checkpoint")]
    private partial void LogRunInterruptedRestart(Guid id, Guid jobId, int batch, string reason);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning,
        Message = "Optimization batch {Id}: its run was interrupted while it was wound up ({Reason}); taken up again once the cluster answers")]
    private partial void LogSupervisionInterrupted(Exception exception, Guid id, string reason);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Optimization batch {Id}: no precompiled strategy ({Reason}); its worker compiles the source itself")]
    private partial void LogNotPrecompiled(Guid id, string reason);

    [LoggerMessage(EventId = 17, Level = LogLevel.Error,
        Message = "Optimization batch {Id}: the cluster could not be reached for longer than its grace ({Grace}); the batch fails")]
    private partial void LogGaveUpUnreachable(Exception exception, Guid id, TimeSpan grace);
}
