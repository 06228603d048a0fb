using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Backtesting.Compiler;
using Backtesting.Engine;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Core;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;
using Backtesting.Worker;

// Lines leave on the worker's own flushes (each heartbeat, trial report and the end); a 64 KB buffer rather than the
// writer's default 1 KB, which handed a ten-year run's 6 MB of trade lines to the pipe in about 6,000 writes.
using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024)
{
    AutoFlush = false,
};
return WorkerProgram.Run(args, stdout, Console.Error);

namespace Backtesting.Worker
{
    public static class WorkerProgram
    {
        /// <param name="stop">
        /// Ends the run early with partial results, like SIGTERM: how a host running the worker in-process stops it.
        /// </param>
        /// <param name="data">
        /// A host that runs the worker in-process passes its own data provider, so runs share its catalog and its
        /// decoded daily series; the worker process opens the folder named by --data.
        /// </param>
        public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, IMarketDataProvider? data = null,
            CancellationToken stop = default)
        {
            if (args.Count > 0 && args[0] == "import")
            {
                return ImportCommand.Run(args.Skip(1).ToList(), stdout, stderr);
            }

            if (args.Count > 0 && args[0] == "compile")
            {
                try
                {
                    return CompileCommand.Run(args.Skip(1).ToList(), stdout, stderr);
                }
                finally
                {
                    stdout.Flush();
                }
            }

            if (args.Count > 0 && args[0] == "optimize-batch")
            {
                return OptimizeBatchCommand.Run(args.Skip(1).ToList(), stdout, stderr, data, stop);
            }

            if (args.Count > 0 && args[0] == "sandbox-probe")
            {
                return SandboxProbe.Run(args.Skip(1).ToList(), stdout, stderr);
            }

            if (args.Count > 0 && args[0] == "strategies")
            {
                // The templates' parameter schemas, the one source the docs and forms are checked against.
                stdout.WriteLine(JsonSerializer.Serialize(
                    StrategyCatalog.Templates.All.Select(d => new { name = d.Name, description = d.Description, parameters = d.Parameters }),
                    JsonDefaults.Indented));
                return ExitCodes.Completed;
            }

            var (options, usageError) = WorkerOptions.Parse(args);
            if (options is null)
            {
                stderr.WriteLine(usageError);
                stderr.WriteLine(WorkerOptions.Usage);
                return ExitCodes.Usage;
            }

            string json;
            try
            {
                json = File.ReadAllText(options.ConfigPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"cannot read --config {options.ConfigPath}: {e.Message}");
                return ExitCodes.Usage;
            }

            try
            {
                return RunBacktest(options, json, stdout, stderr, data, stop);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
            {
                // Data that cannot be read (a corrupt or missing file) fails the run with a clear report.
                return Fail(options, stdout, stderr, ErrorTypes.Data, e.Message, ExitCodes.Failed, e);
            }
            finally
            {
                stdout.Flush();
            }
        }

        private static int RunBacktest(WorkerOptions options, string json, TextWriter stdout, TextWriter stderr,
            IMarketDataProvider? provided, CancellationToken external)
        {
            var (config, parseErrors) = ConfigValidator.Parse(json);
            if (config is null)
            {
                return ReportInvalid(options, parseErrors, stdout, stderr);
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(external);
            var timings = options.Timings ? RunTimings.Start(!external.CanBeCanceled) : null;
            // Signals are the process's own business only when the worker is the process; a host that runs it
            // in-process passes a cancellable token instead and keeps its own signal handling.
            var ownsProcess = !external.CanBeCanceled;
            ProgressReporter? reporting = null;
            // Only a process can end a strategy that never returns, so only a process arms the watchdog. It is armed
            // before the strategy is compiled and validated, which already runs its constructor and its rules.
            using var watchdog = new RunWatchdog(ownsProcess ? options.Timeout : null, ownsProcess ? options.StallTimeout : null, stop,
                reason =>
                {
                    // The engine's thread is stuck inside the strategy, so nothing else writes to stdout now.
                    Fail(options, stdout, stderr, ErrorTypes.Timeout, reason, ExitCodes.TimedOut, null, reporting?.LastProgress);
                    stdout.Flush();
                    stderr.Flush();
                    Environment.Exit(ExitCodes.TimedOut);
                });

            var dataRoot = provided is null ? DataRoot.Locate(options.DataDirectory) : "";
            if (dataRoot is null)
            {
                stderr.WriteLine("no market data folder found: pass --data <dir> or set BACKTESTING_DATA");
                return ExitCodes.Usage;
            }

            IMarketDataProvider data = provided
                ?? new LeanDataProvider(dataRoot, options.DataOptions(dataRoot, Environment.GetEnvironmentVariable(WorkerOptions.BarCacheEnvironmentVariable)));
            if (timings is not null)
            {
                data = new TimedDataProvider(data, timings);
            }

            var strategies = StrategyCatalog.Templates;
            using var custom = LoadCustomStrategy(options, out var sourceErrors);
            if (sourceErrors.Count > 0)
            {
                return ReportInvalid(options, sourceErrors, stdout, stderr);
            }

            if (custom is not null)
            {
                strategies = custom.WithTemplates();
            }

            ValidationOutcome validation;
            try
            {
                validation = ConfigValidator.Validate(config, data, strategies, ValidationPolicy.Local, DateOnly.FromDateTime(DateTime.UtcNow));
            }
            catch (Exception e) when (custom is not null)
            {
                // Validation runs the custom strategy's setters and ValidateParameters, which may throw.
                return ReportInvalid(options, [new ValidationError("strategyConfig", "strategy",
                    $"the strategy's parameter validation threw {e.GetType().Name}: {e.Message}")], stdout, stderr);
            }

            if (!validation.IsValid)
            {
                return ReportInvalid(options, validation.Errors, stdout, stderr);
            }

            var spec = validation.Spec!;
            Directory.CreateDirectory(options.OutputDirectory);
            var run = new BacktestRun(spec, data, strategies);
            var contentHash = run.ContentHash();
            var engineOptions = new EngineOptions();
            Checkpoint? resumeFrom = null;
            if (options.Resume)
            {
                resumeFrom = Checkpoint.Load(options.OutputDirectory);
                if (resumeFrom is not null && resumeFrom.ContentHash != contentHash)
                {
                    return Fail(options, stdout, stderr, ErrorTypes.Execution,
                        "the checkpoint in the output folder belongs to another config or data version", ExitCodes.CheckpointMismatch);
                }

                if (resumeFrom is not null)
                {
                    engineOptions = engineOptions with { SilentUntil = resumeFrom.ProcessedPoints };
                }
            }

            var reporter = new ProgressReporter(stdout, options.BacktestId, spec.Start, spec.End,
                p => new Checkpoint(contentHash, p.ProcessedPoints, p.TradesClosed, p.Equity, p.Cash).Save(options.OutputDirectory),
                options.CheckpointInterval, resumeFrom?.ProcessedPoints ?? 0,
                // Inside a host the process's figures are the host's: measure this thread, the one running the engine.
                ownsProcess ? ResourceSampler.ForProcess() : ResourceSampler.ForCurrentThread());
            var mismatch = false;
            if (resumeFrom is not null)
            {
                reporter.OnFirstLiveHeartbeat = p =>
                {
                    mismatch = !resumeFrom.Matches(p.ProcessedPoints, p.TradesClosed, p.Equity, p.Cash);
                };
            }

            reporting = reporter;
            watchdog.Attach(reporter);
            using var sigterm = ownsProcess ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopOnSignal) : null;
            using var sigint = ownsProcess ? PosixSignalRegistration.Create(PosixSignal.SIGINT, StopOnSignal) : null;

            if (options.StopOnStdinClose)
            {
                var watcher = new Thread(() =>
                {
                    using var stdin = Console.OpenStandardInput();
                    var buffer = new byte[256];
                    while (stdin.Read(buffer, 0, buffer.Length) > 0)
                    {
                    }

                    stop.Cancel();
                })
                { IsBackground = true, Name = "stdin watcher" };
                watcher.Start();
            }

            void StopOnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            Backtesting.Engine.Results.BacktestResult result;
            try
            {
                try
                {
                    timings?.EngineStarts();
                    result = run.Execute(engineOptions, watchdog, stop.Token);
                }
                finally
                {
                    timings?.EngineEnds();
                    // However the run ended, the trades and equity points it produced are reported.
                    reporter.FlushLive();
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException)
            {
                return Fail(options, stdout, stderr, ErrorTypes.Data, e.Message, ExitCodes.Failed, e, reporter.LastProgress);
            }
            catch (OutOfMemoryException e)
            {
                // With a heap limit (DOTNET_GCHeapHardLimit, or a container's memory limit) a strategy that allocates
                // without bound ends here; what it allocated is garbage by now, so reporting still works.
                var limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / ByteSize.MiB;
                return Fail(options, stdout, stderr, ErrorTypes.Memory,
                    $"the run ran out of memory (its heap is limited to {limit} MB): {e.Message}", ExitCodes.Failed, e, reporter.LastProgress);
            }
            catch (Exception e)
            {
                // Anything else is a fault in the run (or the strategy): report it, never crash silently.
                var message = custom is null ? e.Message : DescribeStrategyFault(e);
                return Fail(options, stdout, stderr, ErrorTypes.Execution, message, ExitCodes.Failed, e, reporter.LastProgress);
            }

            if (mismatch)
            {
                return Fail(options, stdout, stderr, ErrorTypes.Execution,
                    "replaying to the checkpoint did not reproduce its state: the data changed since it was written", ExitCodes.CheckpointMismatch);
            }

            timings?.ResultsStart();
            ResultsWriter.Write(Path.Combine(options.OutputDirectory, WorkerFiles.Results), result);
            timings?.ResultsEnd();
            if (watchdog.Reason is { } timedOut && result.Partial)
            {
                // The watchdog's stop was honoured: partial results are kept, and the run reports its timeout.
                ResultReport.Write(result, stderr);
                return Fail(options, stdout, stderr, ErrorTypes.Timeout, timedOut + "; partial results were kept", ExitCodes.TimedOut, null,
                    reporter.LastProgress);
            }

            if (!result.Partial)
            {
                File.Delete(Path.Combine(options.OutputDirectory, WorkerFiles.Checkpoint));
            }

            reporter.EmitFinalProgress(FinalProgress(result));
            if (timings is not null)
            {
                reporter.WriteTimings(timings.Split());
            }

            reporter.WriteComplete(new BacktestCompleteData(
                result.Partial ? CompletionStatus.Cancelled : CompletionStatus.Completed,
                Math.Round(reporter.ElapsedSeconds, 3),
                new CompletionSummary(result.Summary.TotalTrades, result.Summary.FinalBalance, result.Summary.TotalReturn, result.Summary.MaxDrawdown),
                WorkerFiles.Results,
                result.Partial));
            ResultReport.Write(result, stderr);
            return result.Partial ? ExitCodes.Stopped : ExitCodes.Completed;
        }

        /// <summary>
        /// The closing 100% line, built from the results themselves: its equity, cash and drawdown are the equity
        /// curve's last point, so what a client shows last agrees with the stored curve.
        /// </summary>
        private static EngineProgress FinalProgress(Backtesting.Engine.Results.BacktestResult result)
        {
            var unrealized = result.OpenPositions.Sum(p => p.UnrealizedPnl);
            if (result.EquityCurve.Count == 0)
            {
                return new EngineProgress(result.Summary.ProcessedBars, result.Summary.ProcessedBars, 0, -1,
                    result.Summary.FinalBalance, result.Summary.FinalBalance, unrealized, 0, result.Summary.TotalTrades);
            }

            var last = result.EquityCurve[^1];
            return new EngineProgress(result.Summary.ProcessedBars, result.Summary.ProcessedBars, last.Time.Ticks, -1,
                result.Summary.FinalBalance, last.Cash, unrealized, last.Drawdown, result.Summary.TotalTrades);
        }

        /// <summary>
        /// Compiles --strategy-source, when given, in the sandbox; its errors come back as validation errors of the
        /// field strategySource, each with its line and column.
        /// </summary>
        private static LoadedStrategy? LoadCustomStrategy(WorkerOptions options, out List<ValidationError> errors)
        {
            errors = [];
            if (options.StrategySource is null)
            {
                return null;
            }

            string source;
            try
            {
                source = File.ReadAllText(options.StrategySource);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add(new ValidationError("strategySource", "readable", $"cannot read --strategy-source {options.StrategySource}: {e.Message}"));
                return null;
            }

            var compiled = StrategyCompiler.Compile(source);
            if (!compiled.Ok)
            {
                errors.AddRange(compiled.Diagnostics.Where(d => d.Severity == CompileDiagnostic.Error).Select(d =>
                    new ValidationError("strategySource", d.Id, $"line {d.Line}, column {d.Column}: {d.Message}")));
                return null;
            }

            try
            {
                // The first time the strategy's own code runs: here, under the run's watchdog, never while compiling.
                return compiled.Load();
            }
            catch (Exception e)
            {
                errors.Add(new ValidationError("strategySource", SandboxRules.ConstructionFailed,
                    $"creating the strategy failed: {DescribeStrategyFault(e)}"));
                return null;
            }
        }

        /// <summary>A custom strategy's exception with the line of its source it came from, when it came from there.</summary>
        internal static string DescribeStrategyFault(Exception e)
        {
            var frame = new System.Diagnostics.StackTrace(e, fNeedFileInfo: true).GetFrames()
                .FirstOrDefault(f => f.GetFileName() == StrategyCompiler.FileName);
            var where = frame is null ? "" : $" ({StrategyCompiler.FileName} line {frame.GetFileLineNumber()})";
            return $"{e.GetType().Name}: {e.Message}{where}";
        }

        private static int ReportInvalid(WorkerOptions options, IReadOnlyList<ValidationError> errors, TextWriter stdout, TextWriter stderr)
        {
            foreach (var error in errors)
            {
                stderr.WriteLine($"{error.Field}: {error.Message} [{error.Rule}]");
            }

            stdout.WriteLine(ProtocolLines.Error(options.BacktestId, DateTime.UtcNow,
                new BacktestErrorData(ErrorTypes.Validation, $"the config has {errors.Count} error(s)",
                    new BacktestErrorDetails(null, null, null, false, errors))));
            return ExitCodes.InvalidConfig;
        }

        private static int Fail(WorkerOptions options, TextWriter stdout, TextWriter stderr, string type, string text, int code,
            Exception? exception = null, EngineProgress? at = null)
        {
            stderr.WriteLine($"{type} error: {text}");
            var failedAt = at is { CurrentTime: > 0 } p ? new DateTime(p.CurrentTime, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ssZ") : null;
            // A data or execution failure can be retried from the checkpoint once its cause is fixed.
            var instrument = (exception as MarketDataException)?.InstrumentId;
            stdout.WriteLine(ProtocolLines.Error(options.BacktestId, DateTime.UtcNow,
                new BacktestErrorData(type, text, new BacktestErrorDetails(exception?.StackTrace, failedAt, instrument, code == ExitCodes.Failed))));
            return code;
        }
    }
}
