using Backtesting.Engine.Protocol;
using System.Threading.Channels;

namespace Backtesting.Grains.Runners;

/// <summary>
/// What the runners share: the line channel each feeds from the worker's stdout, the worker's command line, and the
/// attempt folder's input files.
/// </summary>
internal static class RunChannels
{
    /// <summary>How much of a worker's output stream a runner reads at a time.</summary>
    public const int ReadBufferBytes = 64 * 1024;

    /// <summary>
    /// How much of a worker's stderr the process runner keeps (its end: a crash message and its frames). The Docker
    /// runner keeps less, <see cref="DockerLogSplitter.StderrTailChars"/>.
    /// </summary>
    public const int StderrTailChars = 64 * 1024;

    /// <summary>
    /// Splits a worker's stdout into the run's lines, bounded by <see cref="RunRequest.MaxLineBytes"/>: a longer line
    /// (or output without newlines) completes the channel with a <see cref="Protocol.WorkerProtocolException"/>,
    /// which fails the run, and everything after it is dropped.
    /// </summary>
    public static Protocol.BoundedLineSplitter Splitter(Channel<string> lines, int maxLineBytes) =>
        new(maxLineBytes, line => lines.Writer.TryWrite(line), limit => lines.Writer.TryComplete(Protocol.WorkerProtocolException.LineTooLong(limit)));

    public static Channel<string> Create() => Channel.CreateUnbounded<string>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = true,
    });

    /// <param name="outputDirectory">The output folder as the worker sees it (a container mounts it elsewhere).</param>
    /// <param name="dataDirectory">The data folder as the worker sees it.</param>
    public static List<string> WorkerArguments(RunRequest request, string? outputDirectory = null, string? dataDirectory = null)
    {
        outputDirectory ??= request.OutputDirectory;
        var inContainer = outputDirectory.StartsWith('/') && outputDirectory != request.OutputDirectory;
        // A Linux path inside a container, whatever the host.
        string Inside(string file) => inContainer ? outputDirectory.TrimEnd('/') + "/" + file : Path.Combine(outputDirectory, file);
        if (request.BatchJson is not null)
        {
            // A batch resumes by itself from the checkpoint files of its folder. A custom strategy's batch compiles its
            // source once, and a trial of it that runs past the stall limit is recorded as failed and ends the run.
            List<string> batch = ["optimize-batch", "--batch", Inside(OptimizationFiles.Batch), "--output", outputDirectory, "--data",
                dataDirectory ?? request.DataDirectory];
            if (request.StrategyAssembly is not null)
            {
                // Compiled once for the job by a compile-only run: the worker verifies it (hash, compiler version, audit) and loads it.
                // A container sees it where the Docker runner mounts it read-only on its own.
                batch.AddRange(["--strategy-assembly", inContainer ? DockerSandbox.PrecompiledMount : Inside(WorkerFiles.PrecompiledStrategy)]);
            }
            else if (request.StrategySource is not null)
            {
                batch.AddRange(["--strategy-source", Inside(WorkerFiles.StrategySource)]);
            }

            if (request.StallTimeout is { } trialLimit)
            {
                batch.AddRange(["--trial-timeout-seconds",
                    Math.Max(1, Math.Ceiling(trialLimit.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            }

            return batch;
        }

        var args = new List<string>
        {
            "--config", Inside(WorkerFiles.Config),
            "--output", outputDirectory,
            "--data", dataDirectory ?? request.DataDirectory,
            "--backtest-id", request.BacktestId.ToString(),
            "--checkpoint-seconds", request.CheckpointInterval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (request.Resume)
        {
            args.Add("--resume");
        }

        // The silo enforces both from outside too (SiloWatchdog); the worker's own watchdog stops first where it can,
        // with partial results.
        foreach (var (option, limit) in new[] { ("--timeout-seconds", request.Timeout), ("--stall-seconds", request.StallTimeout) })
        {
            if (limit is { } value)
            {
                args.Add(option);
                args.Add(Math.Max(1, Math.Ceiling(value.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        if (request.StrategySource is not null)
        {
            args.Add("--strategy-source");
            args.Add(Inside(WorkerFiles.StrategySource));
        }

        return args;
    }

    /// <summary>Writes the config (and a custom strategy's source) next to the output so the worker (and a person debugging) can read it.
    /// The folder is closed to everyone but its owner (docs/docker.md, "Attempt folders").</summary>
    public static void PrepareOutput(RunRequest request)
    {
        AttemptFolder.Prepare(request.OutputDirectory, owner: null);
        AttemptFolder.WriteText(Path.Combine(request.OutputDirectory, WorkerFiles.Config), request.ConfigJson);
        if (request.BatchJson is not null)
        {
            AttemptFolder.WriteText(Path.Combine(request.OutputDirectory, OptimizationFiles.Batch), request.BatchJson);
        }
        if (request.StrategySource is not null)
        {
            AttemptFolder.WriteText(Path.Combine(request.OutputDirectory, WorkerFiles.StrategySource), request.StrategySource);
        }

        if (request.StrategyAssembly is { } compiled)
        {
            // Written anew for every run, owned by the silo and read-only to the worker: whatever a run left under that name is
            // removed (never followed) first.
            var folder = Path.Combine(request.OutputDirectory, WorkerFiles.PrecompiledStrategy);
            AttemptFolder.ReplaceReadOnlyFolder(folder);
            AttemptFolder.WriteBytes(Path.Combine(folder, WorkerFiles.CompiledAssembly), compiled.Assembly);
            AttemptFolder.WriteText(Path.Combine(folder, WorkerFiles.CompileResult), compiled.CompileResultJson);
        }
    }
}
