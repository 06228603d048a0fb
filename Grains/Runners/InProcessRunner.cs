using System.Threading.Channels;
using Backtesting.Engine.Data;
using Backtesting.Worker;

namespace Backtesting.Grains.Runners;

/// <summary>
/// Runs the worker's own code on a thread of this process: no process start-up, the fastest runner, for
/// development and tests. Pause works by back-pressure: while paused, the worker's next output line blocks,
/// which holds the engine within a heartbeat.
/// </summary>
public sealed class InProcessRunner(IMarketDataProvider data) : IBacktestRunner
{
    public string Kind => "inProcess";

    public Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
    {
        if (request.StrategySource is not null)
        {
            // A strategy stuck in a loop could never be stopped inside the silo's own process.
            throw new CustomStrategyRefusedException(
                "the in-process runner never runs custom strategies: use the docker runner (or, for development, the process runner)");
        }

        RunChannels.PrepareOutput(request);
        return Task.FromResult<IRunHandle>(new Handle(request, data));
    }

    private sealed class Handle : IRunHandle
    {
        private readonly Channel<string> _lines = RunChannels.Create();
        private readonly CancellationTokenSource _stop = new();
        private readonly ManualResetEventSlim _running = new(initialState: true);
        // The controls of a run that ended and was disposed do nothing (a grain's stop may come in while its supervision
        // disposes the handle): the one lock orders them with the disposal.
        private readonly object _controls = new();
        private bool _disposed;

        public Handle(RunRequest request, IMarketDataProvider data)
        {
            var args = RunChannels.WorkerArguments(request);
            Exit = Task.Factory.StartNew(() =>
            {
                using var writer = new LineWriter(_lines.Writer, _running);
                using var errors = new StringWriter();
                try
                {
                    return new RunExit(WorkerProgram.Run(args, writer, errors, data, _stop.Token));
                }
                finally
                {
                    writer.Flush();
                    _lines.Writer.TryComplete();
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        public ChannelReader<string> Lines => _lines.Reader;

        public Task<RunExit> Exit { get; }

        public int? ProcessId => null;

        public Task PauseAsync()
        {
            Control(() => _running.Reset());
            return Task.CompletedTask;
        }

        public Task ResumeAsync()
        {
            Control(() => _running.Set());
            return Task.CompletedTask;
        }

        public async Task StopAsync(TimeSpan grace)
        {
            Control(() =>
            {
                _stop.Cancel();
                _running.Set();
            });
            // The engine checks its token every heartbeat; an in-process run cannot be killed, only waited for.
            await Task.WhenAny(Exit, Task.Delay(grace)).ConfigureAwait(false);
        }

        private void Control(Action action)
        {
            lock (_controls)
            {
                if (!_disposed)
                {
                    action();
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            Control(() =>
            {
                _stop.Cancel();
                _running.Set();
            });
            await Exit.ConfigureAwait(false);
            lock (_controls)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _stop.Dispose();
                _running.Dispose();
            }
        }
    }

    /// <summary>A TextWriter that turns the worker's lines into channel items, waiting while paused.</summary>
    private sealed class LineWriter(ChannelWriter<string> lines, ManualResetEventSlim running) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                running.Wait();
                lines.TryWrite(_line.ToString());
                _line.Clear();
            }
            else if (value != '\r')
            {
                _line.Append(value);
            }
        }

        public override void Write(string? value)
        {
            if (value is null)
            {
                return;
            }

            foreach (var c in value)
            {
                Write(c);
            }
        }

        public override void WriteLine(string? value)
        {
            Write(value);
            Write('\n');
        }
    }
}
