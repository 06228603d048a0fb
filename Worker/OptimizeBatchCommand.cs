using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Optimization;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;

namespace Backtesting.Worker;

/// <summary>
/// <c>worker optimize-batch --batch batch.json --output dir [--data dir] [--bar-cache dir|off] [--bar-cache-read-only] [--stop-on-stdin-close]
/// [--strategy-source strategy.cs | --strategy-assembly dir] [--trial-timeout-seconds n]</c>: runs the trials of one optimization batch
/// back to back over market data read and adjusted once, printing an <c>optimization_trial</c> line per finished trial and
/// <c>optimization_batch_progress</c> lines. Per trial, in this order: its daily returns are appended to
/// trial-returns.bin, its line is printed, its number is appended to trials-done.txt (each flushed). A new run over the
/// same folder skips the trials trials-done.txt holds, so a batch stopped by a signal (which ends it between trials)
/// never prints a trial twice; a run killed between a trial's line and its checkpoint prints that one trial again.
/// A custom strategy (--strategy-source) is compiled and audited once per run, or taken precompiled from a compile-only
/// run (--strategy-assembly: a folder of compile.json and strategy.dll) and verified before it is loaded, then loaded into a fresh load context
/// per trial (<see cref="CustomTrialStrategies"/>); a trial whose strategy throws is recorded as failed with the reason,
/// and one that runs past --trial-timeout-seconds is recorded as failed and ends the run (exit code 7), since a thread
/// stuck in a strategy cannot be stopped otherwise.
/// </summary>
internal static class OptimizeBatchCommand
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, IMarketDataProvider? provided = null,
        CancellationToken external = default)
    {
        string? batchPath = null, output = null, dataDirectory = null, barCache = null, strategySource = null, strategyAssembly = null;
        TimeSpan? trialTimeout = null;
        var barCacheReadOnly = false;
        var stopOnStdinClose = false;
        for (var i = 0; i < args.Count; i++)
        {
            string? Next() => i + 1 < args.Count ? args[++i] : null;
            switch (args[i])
            {
                case "--batch":
                    batchPath = Next();
                    break;
                case "--output":
                    output = Next();
                    break;
                case "--data":
                    dataDirectory = Next();
                    break;
                case "--bar-cache":
                    barCache = Next();
                    break;
                case "--bar-cache-read-only":
                    barCacheReadOnly = true;
                    break;
                case "--strategy-source":
                    strategySource = Next();
                    break;
                case "--strategy-assembly":
                    strategyAssembly = Next();
                    break;
                case "--trial-timeout-seconds":
                    trialTimeout = WorkerOptions.ParseSeconds(Next());
                    if (trialTimeout is null)
                    {
                        return Usage(stderr, "--trial-timeout-seconds needs a positive number of seconds");
                    }

                    break;
                case "--stop-on-stdin-close":
                    // The process runner holds the worker's stdin open: when its silo dies, the batch stops between trials.
                    stopOnStdinClose = true;
                    break;
                default:
                    return Usage(stderr, $"unknown argument '{args[i]}'");
            }
        }

        if (batchPath is null || output is null)
        {
            return Usage(stderr, "--batch <batch.json> and --output <dir> are required");
        }

        if (strategySource is not null && strategyAssembly is not null)
        {
            return Usage(stderr, "--strategy-source and --strategy-assembly exclude each other");
        }

        string json;
        try
        {
            var length = new FileInfo(batchPath).Length;
            if (length > OptimizationBatchValidator.MaxFileBytes)
            {
                return Refuse(stdout, stderr, "", 0, [new ValidationError("$", "maxSize",
                    $"the batch file holds {length} bytes: at most {OptimizationBatchValidator.MaxFileBytes}")]);
            }

            json = File.ReadAllText(batchPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Usage(stderr, $"cannot read --batch {batchPath}: {e.Message}");
        }

        var (batch, parseErrors) = OptimizationBatchValidator.Parse(json);
        if (batch is null)
        {
            return Refuse(stdout, stderr, "", 0, parseErrors);
        }

        var dataRoot = provided is null ? DataRoot.Locate(dataDirectory) : "";
        if (dataRoot is null)
        {
            stderr.WriteLine("no market data folder found: pass --data <dir> or set BACKTESTING_DATA");
            return ExitCodes.Usage;
        }

        // Compiled and audited once for the whole run; validating the batch runs none of its code (the schema the compiler read).
        var strategies = StrategyCatalog.Templates;
        var trialStrategies = TrialStrategies.Shared(strategies);
        if (strategySource is not null || strategyAssembly is not null)
        {
            // A precompiled assembly is verified before anything of it is loaded: its recorded hash, this worker's own
            // compiler, and the metadata audit again; a mismatch refuses the batch like a source that does not compile.
            var (custom, sourceErrors) = strategyAssembly is not null
                ? CustomTrialStrategies.Precompiled(strategyAssembly)
                : CustomTrialStrategies.Compile(strategySource!);
            if (custom is null)
            {
                return Refuse(stdout, stderr, batch.OptimizationId, batch.Batch, sourceErrors);
            }

            if (strategyAssembly is not null)
            {
                stderr.WriteLine("optimize-batch: the precompiled strategy's hash, compiler version and metadata audit hold");
            }

            strategies = custom.Catalog;
            trialStrategies = custom.Trials;
            stderr.WriteLine(custom.StaticFields.Count == 0
                ? "optimize-batch: the custom strategy declares no static field: one load context serves every trial"
                : $"optimize-batch: the custom strategy declares static fields ({string.Join(", ", custom.StaticFields)}): each trial loads it anew");
        }

        var writer = new LineWriter(stdout, batch.OptimizationId, batch.Batch);
        try
        {
            // The batch reads its data once, through the same bar cache a single run uses (only reading it for uploaded
            // code). A data folder missing what every run needs (the market-hours database) fails here, as a data error.
            var data = new PreloadedMarketData(provided ?? new LeanDataProvider(dataRoot, WorkerOptions.BarCacheOptions(dataRoot,
                barCache ?? Environment.GetEnvironmentVariable(WorkerOptions.BarCacheEnvironmentVariable), barCacheReadOnly || strategySource is not null || strategyAssembly is not null)));
            var (errors, plan) = OptimizationBatchValidator.Validate(batch, data, strategies, DateOnly.FromDateTime(DateTime.UtcNow));
            if (plan is null)
            {
                return Refuse(stdout, stderr, batch.OptimizationId, batch.Batch, errors);
            }

            return RunTrials(batch, plan, data, trialStrategies, output, writer, stderr, stopOnStdinClose,
                external.CanBeCanceled ? null : trialTimeout, external);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
        {
            // Data or checkpoint files that cannot be read or written fail the batch with a clear report.
            stderr.WriteLine($"data error: {e.Message}");
            writer.BatchError(new BacktestErrorData(ErrorTypes.Data, e.Message,
                new BacktestErrorDetails(e.StackTrace, null, (e as MarketDataException)?.InstrumentId, true)));
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A fault in a run is reported, never a silent crash; the checkpoint keeps what finished before it.
            stderr.WriteLine($"execution error: {e}");
            writer.BatchError(new BacktestErrorData(ErrorTypes.Execution, $"{e.GetType().Name}: {e.Message}",
                new BacktestErrorDetails(e.StackTrace, null, null, true)));
            return ExitCodes.Failed;
        }
        finally
        {
            stdout.Flush();
        }
    }

    /// <param name="trialTimeout">The longest a trial may run (only a worker that owns its process can end a stuck trial).</param>
    private static int RunTrials(OptimizationBatch batch, OptimizationPlan plan, IMarketDataProvider data, TrialStrategies strategies,
        string output, LineWriter writer, TextWriter stderr, bool stopOnStdinClose, TimeSpan? trialTimeout, CancellationToken external)
    {
        Directory.CreateDirectory(output);
        var done = LoadCheckpoint(Path.Combine(output, OptimizationFiles.TrialsDone));
        RepairReturns(Path.Combine(output, OptimizationFiles.TrialReturns), done);
        var todo = batch.Trials.Where(t => !done.Contains(t.Trial)).ToList();
        var skipped = batch.Trials.Count - todo.Count;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(external);
        var ownsProcess = !external.CanBeCanceled;
        using var sigterm = ownsProcess ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopOnSignal) : null;
        using var sigint = ownsProcess ? PosixSignalRegistration.Create(PosixSignal.SIGINT, StopOnSignal) : null;
        void StopOnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        if (stopOnStdinClose)
        {
            new Thread(() =>
            {
                using var stdin = Console.OpenStandardInput();
                var buffer = new byte[256];
                while (stdin.Read(buffer, 0, buffer.Length) > 0)
                {
                }

                try
                {
                    stop.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The batch ended first.
                }
            })
            { IsBackground = true, Name = "stdin watcher" }.Start();
        }

        var runner = new TrialRunner(plan, data, strategies);
        using var returns = new FileStream(Path.Combine(output, OptimizationFiles.TrialReturns), FileMode.Append, FileAccess.Write, FileShare.Read);
        using var checkpoint = new StreamWriter(new FileStream(Path.Combine(output, OptimizationFiles.TrialsDone), FileMode.Append,
            FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        var ran = 0;
        // One trial is recorded at a time: by this loop, or by the watchdog for a trial that never came back.
        var recording = new object();
        void Record(TrialOutcome outcome)
        {
            TrialReturns.Write(returns, outcome.Trial, outcome.DailyReturns);
            returns.Flush();
            writer.Trial(new OptimizationTrialData(outcome.Trial, outcome.Parameters, outcome.Metrics,
                outcome.TradeCount, outcome.Feasible, outcome.InfeasibleReason, outcome.ContentHash, outcome.ObjectiveValue));
            writer.Flush();
            checkpoint.Write(outcome.Trial.ToString(CultureInfo.InvariantCulture));
            checkpoint.Write('\n');
            checkpoint.Flush();
        }

        var points = todo.ToDictionary(t => t.Trial, t => new TrialPoint(t.Trial, t.Parameters));
        int? running = null;
        using var watchdog = trialTimeout is { } limit ? new TrialWatchdog(limit, late =>
        {
            lock (recording)
            {
                if (running != late)
                {
                    return;
                }

                var reason = $"timed out: the trial ran longer than {limit.TotalSeconds:0.###} s (Backtesting:StallTimeout)";
                Record(TrialRunner.Failed(points[late], reason));
                writer.BatchError(new BacktestErrorData(ErrorTypes.Timeout, $"trial {late} {reason}",
                    new BacktestErrorDetails(null, null, null, true)));
                writer.Flush();
                stderr.WriteLine($"optimize-batch: trial {late} ran longer than {limit.TotalSeconds:0.###} s; recorded as failed, the run ends");
                stderr.Flush();
                Environment.Exit(ExitCodes.TimedOut);
            }
        }) : null;

        // A first sign of life once compiled and loaded, before any trial (the silo watches for silence).
        writer.BatchProgress(Progress(skipped, batch.Trials.Count, skipped, 0, clock.Elapsed));
        writer.Flush();
        foreach (var trial in todo)
        {
            if (stop.IsCancellationRequested)
            {
                break;
            }

            // A trial runs to its end once started: a signal takes effect between trials.
            lock (recording)
            {
                running = trial.Trial;
            }

            watchdog?.Begin(trial.Trial);
            var outcome = runner.Run(points[trial.Trial], CancellationToken.None);
            lock (recording)
            {
                running = null;
                watchdog?.End();
                Record(outcome);
            }

            ran++;
            if (clock.Elapsed - lastProgress >= ProgressInterval)
            {
                lastProgress = clock.Elapsed;
                writer.BatchProgress(Progress(skipped + ran, batch.Trials.Count, skipped, ran, clock.Elapsed));
                writer.Flush();
            }
        }

        var elapsed = clock.Elapsed;
        var stopped = skipped + ran < batch.Trials.Count;
        writer.BatchProgress(Progress(skipped + ran, batch.Trials.Count, skipped, ran, elapsed));
        writer.BatchComplete(new OptimizationBatchCompleteData(ran, skipped, batch.Trials.Count,
            Math.Round(elapsed.TotalSeconds, 3), Rate(ran, elapsed), stopped));
        writer.Flush();
        stderr.WriteLine($"optimize-batch: {ran} trial(s) run, {skipped} skipped (checkpoint), {Rate(ran, elapsed)} trials/s{(stopped ? ", stopped" : "")}");
        return stopped ? ExitCodes.Stopped : ExitCodes.Completed;
    }

    private static OptimizationBatchProgressData Progress(int done, int total, int skipped, int ran, TimeSpan elapsed) =>
        new(done, total, skipped, Rate(ran, elapsed), Math.Round(elapsed.TotalSeconds, 3));

    private static double Rate(int trials, TimeSpan elapsed) =>
        elapsed.TotalSeconds > 0 ? Math.Round(trials / elapsed.TotalSeconds, 1) : 0;

    /// <summary>
    /// The trial numbers of trials-done.txt. A last line without its newline was torn by a kill: it is cut off (the trial
    /// runs again). Any other line that is not a trial number means the file is not ours to trust: the batch fails.
    /// </summary>
    internal static HashSet<int> LoadCheckpoint(string path)
    {
        var done = new HashSet<int>();
        if (!File.Exists(path))
        {
            return done;
        }

        var bytes = File.ReadAllBytes(path);
        var complete = bytes.AsSpan().LastIndexOf((byte)'\n') + 1;
        var text = Encoding.UTF8.GetString(bytes, 0, complete);
        var lineNumber = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.None)[..^1])
        {
            lineNumber++;
            if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var trial))
            {
                throw new InvalidDataException($"{OptimizationFiles.TrialsDone} line {lineNumber} is not a trial number: the checkpoint is corrupt");
            }

            done.Add(trial);
        }

        if (complete < bytes.Length)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            file.SetLength(complete);
        }

        return done;
    }

    /// <summary>
    /// Keeps the records of trial-returns.bin up to the last one whose trial the checkpoint holds; what follows (the
    /// returns of a trial killed before its checkpoint, a torn record) is cut off, so no trial's returns are stored twice.
    /// </summary>
    internal static void RepairReturns(string path, HashSet<int> done)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        long keep = 0;
        var kept = new HashSet<int>();
        foreach (var record in TrialReturns.Read(file))
        {
            if (!done.Contains(record.Trial) || !kept.Add(record.Trial))
            {
                break;
            }

            keep = record.End;
        }

        file.SetLength(keep);
    }

    private static int Refuse(TextWriter stdout, TextWriter stderr, string optimizationId, int batch, IReadOnlyList<ValidationError> errors)
    {
        foreach (var error in errors)
        {
            stderr.WriteLine($"{error.Field}: {error.Message} [{error.Rule}]");
        }

        var writer = new LineWriter(stdout, optimizationId, batch);
        writer.BatchError(new BacktestErrorData(ErrorTypes.Validation,
            // The first error in the message too: a job that fails for it says why in its own status.
            errors.Count == 0 ? "the batch is invalid" : $"the batch has {errors.Count} error(s); {errors[0].Field}: {errors[0].Message}",
            new BacktestErrorDetails(null, null, null, false, errors)));
        writer.Flush();
        return ExitCodes.InvalidConfig;
    }

    private static int Usage(TextWriter stderr, string message)
    {
        stderr.WriteLine(message);
        stderr.WriteLine(WorkerOptions.Usage);
        return ExitCodes.Usage;
    }

    private sealed class LineWriter(TextWriter stdout, string optimizationId, int batch)
    {
        public void Trial(OptimizationTrialData data) => stdout.WriteLine(ProtocolLines.Trial(optimizationId, batch, DateTime.UtcNow, data));

        public void BatchProgress(OptimizationBatchProgressData data) =>
            stdout.WriteLine(ProtocolLines.BatchProgress(optimizationId, batch, DateTime.UtcNow, data));

        public void BatchComplete(OptimizationBatchCompleteData data) =>
            stdout.WriteLine(ProtocolLines.BatchComplete(optimizationId, batch, DateTime.UtcNow, data));

        public void BatchError(BacktestErrorData data) => stdout.WriteLine(ProtocolLines.BatchError(optimizationId, batch, DateTime.UtcNow, data));

        public void Flush() => stdout.Flush();
    }
}
