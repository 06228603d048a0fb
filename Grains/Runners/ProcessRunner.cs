using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Backtesting.Engine;
using Backtesting.Engine.Protocol;

namespace Backtesting.Grains.Runners;

/// <summary>
/// Runs the worker as a child process of the silo: the default when Docker is absent. Pause and resume freeze
/// and thaw it with SIGSTOP/SIGCONT; stop sends SIGTERM (the worker writes partial results) and kills it after
/// the grace period.
/// </summary>
public sealed class ProcessRunner(WorkerCommand command, ProcessRunnerSettings? settings = null) : IBacktestRunner
{
    private readonly ProcessRunnerSettings _settings = settings ?? new ProcessRunnerSettings();

    public string Kind => "process";

    public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
    {
        if (request.StrategySource is not null && !_settings.AllowCustomStrategies)
        {
            throw new CustomStrategyRefusedException(
                "the process runner does not run custom strategies: use the docker runner, or for development only set " +
                "Backtesting:AllowCustomStrategiesInProcessRunner to true");
        }

        RunChannels.PrepareOutput(request);
        var info = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Held open and never written: if this silo dies, the pipe closes and the worker stops itself.
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = request.OutputDirectory,
        };
        foreach (var arg in command.Arguments.Concat(RunChannels.WorkerArguments(request)).Append("--stop-on-stdin-close"))
        {
            info.ArgumentList.Add(arg);
        }

        LimitHeap(info);
        foreach (var (name, value) in WorkerRuntimeSettings.For(request))
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command.FileName}");
        return Task.FromResult<IRunHandle>(new Handle(process, request.MaxLineBytes));
    }

    /// <summary>
    /// Compiles in a worker child process, only where custom strategies are allowed for development (there is no
    /// container around it), with the same heap limit as a run.
    /// </summary>
    public async Task<CompileOutput> CompileStrategyAsync(CompileRequest request, CancellationToken cancellation)
    {
        if (!_settings.AllowCustomStrategies)
        {
            throw new CustomStrategyRefusedException(
                "the process runner does not compile or run custom strategies: use the docker runner, or for development only set " +
                "Backtesting:AllowCustomStrategiesInProcessRunner to true");
        }

        Directory.CreateDirectory(request.Directory);
        var sourcePath = Path.Combine(request.Directory, WorkerFiles.StrategySource);
        await File.WriteAllTextAsync(sourcePath, request.Source, cancellation).ConfigureAwait(false);
        var info = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = request.Directory,
        };
        foreach (var arg in command.Arguments.Concat(request.WorkerArguments(sourcePath, request.Directory)))
        {
            info.ArgumentList.Add(arg);
        }

        LimitHeap(info);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var killed = false;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
        {
            deadline.CancelAfter(request.KillAfter);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                killed = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        return new CompileOutput(killed ? -1 : process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), killed);
    }

    /// <summary>
    /// The worker's identity: SHA-256 over the files that decide what it compiles and how it checks a compile (the worker,
    /// the compiler, the engine, Roslyn) and the runtime's version. Null when custom strategies are not allowed.
    /// </summary>
    public Task<string?> WorkerVersionAsync(CancellationToken cancellation)
    {
        if (!_settings.AllowCustomStrategies)
        {
            return Task.FromResult<string?>(null);
        }

        var program = command.Arguments.FirstOrDefault(a => a.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) ?? command.FileName;
        var folder = Path.GetDirectoryName(Path.GetFullPath(program)) ?? ".";
        var files = new[] { "Backtesting.Worker.dll", "Backtesting.Compiler.dll", "Backtesting.Engine.dll", "Microsoft.CodeAnalysis.dll",
            "Microsoft.CodeAnalysis.CSharp.dll" }.Select(f => new FileInfo(Path.Combine(folder, f))).Where(f => f.Exists).ToList();
        var stamp = string.Join("\n", files.Select(f => $"{f.FullName} {f.Length} {f.LastWriteTimeUtc.Ticks}"));
        lock (_versionLock)
        {
            if (_version is { } known && known.Stamp == stamp)
            {
                return Task.FromResult<string?>(known.Version);
            }

            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            foreach (var file in files)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(file.Name + "\n"));
                hash.AppendData(File.ReadAllBytes(file.FullName));
            }

            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription));
            _version = (stamp, "process " + Convert.ToHexStringLower(hash.GetHashAndReset()));
            return Task.FromResult<string?>(_version.Value.Version);
        }
    }

    private readonly Lock _versionLock = new();
    private (string Stamp, string Version)? _version;

    /// <summary>
    /// The worker's heap limit, for runs and compiles alike. The runtime reads it at start-up, in hex bytes; past it
    /// allocations throw OutOfMemoryException, which the worker reports as a memory error.
    /// </summary>
    private void LimitHeap(ProcessStartInfo info)
    {
        if (_settings.HeapLimitMegabytes > 0)
        {
            info.Environment["DOTNET_GCHeapHardLimit"] = (_settings.HeapLimitMegabytes * ByteSize.MiB).ToString("X", CultureInfo.InvariantCulture);
        }
    }

    private sealed class Handle : IRunHandle
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = RunChannels.Create();
        private int _disposed;

        public Handle(Process process, int maxLineBytes)
        {
            _process = process;
            // Bytes, not ReadLineAsync: a line is never held past the limit, however long the worker makes it.
            var splitter = RunChannels.Splitter(_lines, maxLineBytes);
            var stdout = Task.Run(async () =>
            {
                var buffer = new byte[RunChannels.ReadBufferBytes];
                int read;
                while ((read = await process.StandardOutput.BaseStream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    // After an overflow the rest is drained unread, so the worker never blocks on a full pipe.
                    splitter.Add(buffer.AsSpan(0, read));
                }

                splitter.Flush();
            });
            // Drain stderr so a chatty worker never blocks on a full pipe, keeping only its end: people read it in the
            // worker's logs, and a crash's own message tells a fault a retry would repeat (WorkerCrash).
            var stderr = ReadTail(process.StandardError);
            Exit = Task.Run(async () =>
            {
                await process.WaitForExitAsync().ConfigureAwait(false);
                await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
                _lines.Writer.TryComplete();
                return RunExit.Of(process.ExitCode, await stderr.ConfigureAwait(false));
            });
        }

        /// <summary>The last <see cref="RunChannels.StderrTailChars"/> characters of a stream, read to its end.</summary>
        private static async Task<string> ReadTail(StreamReader reader)
        {
            var tail = new System.Text.StringBuilder();
            var chunk = new char[16 * 1024];
            int read;
            while ((read = await reader.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                tail.Append(chunk, 0, read);
                if (tail.Length > 2 * RunChannels.StderrTailChars)
                {
                    tail.Remove(0, tail.Length - RunChannels.StderrTailChars);
                }
            }

            return tail.Length > RunChannels.StderrTailChars ? tail.ToString(tail.Length - RunChannels.StderrTailChars, RunChannels.StderrTailChars) : tail.ToString();
        }

        public ChannelReader<string> Lines => _lines.Reader;

        public Task<RunExit> Exit { get; }

        public int? ProcessId => _process.Id;

        public Task PauseAsync() => Signal("STOP");

        public Task ResumeAsync() => Signal("CONT");

        public async Task StopAsync(TimeSpan grace)
        {
            if (Ended())
            {
                return;
            }

            await Signal("CONT").ConfigureAwait(false); // a frozen process cannot act on SIGTERM
            await Signal("TERM").ConfigureAwait(false);
            if (await Task.WhenAny(Exit, Task.Delay(grace)).ConfigureAwait(false) != Exit)
            {
                Kill();
            }
        }

        private async Task Signal(string name)
        {
            int id;
            try
            {
                if (Ended())
                {
                    return;
                }

                id = _process.Id;
            }
            catch (InvalidOperationException)
            {
                return; // disposed meanwhile: the run has ended
            }

            using var kill = Process.Start("kill", ["-" + name, id.ToString(CultureInfo.InvariantCulture)]);
            if (kill is not null)
            {
                await kill.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        /// <summary>
        /// The process has exited or the handle was disposed (only ever after the exit): the controls then do nothing. A
        /// grain's stop may come in while its supervision disposes the handle of a run that just ended.
        /// </summary>
        private bool Ended()
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return true;
            }

            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }

        private void Kill()
        {
            try
            {
                if (!Ended())
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited and disposed between the check and the kill.
            }
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            await Exit.ConfigureAwait(false);
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _process.Dispose();
            }
        }
    }
}

/// <summary>What the process runner allows its workers (from <see cref="BacktestClusterOptions"/>).</summary>
/// <param name="AllowCustomStrategies">Run custom strategies without a container: development only.</param>
/// <param name="HeapLimitMegabytes">Each worker's heap limit (DOTNET_GCHeapHardLimit); 0 = none.</param>
public sealed record ProcessRunnerSettings(bool AllowCustomStrategies = false, int HeapLimitMegabytes = 0)
{
    public static ProcessRunnerSettings From(BacktestClusterOptions options) =>
        new(options.AllowCustomStrategiesInProcessRunner, options.WorkerHeapLimitMegabytes);
}
