using System.Threading.Channels;
using Backtesting.Grains.Runners;

namespace Backtesting.Tests.Api;

/// <summary>
/// Wraps the real in-process runner and hands its protocol lines on at a steady pace, so a short backtest lasts
/// long enough for a subscriber to join while it runs. Only runs the predicate picks are paced; the lines, the
/// results and the exit are the real run's.
/// </summary>
public sealed class PacedRunner(IBacktestRunner inner, Func<RunRequest, bool> paced, TimeSpan perLine) : IBacktestRunner
{
    public string Kind => inner.Kind;

    public async Task<IRunHandle> StartAsync(RunRequest request, CancellationToken cancellation)
    {
        var handle = await inner.StartAsync(request, cancellation);
        return paced(request) ? new PacedHandle(handle, perLine) : handle;
    }

    private sealed class PacedHandle : IRunHandle
    {
        private readonly IRunHandle _inner;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly Task _forwarding;

        public PacedHandle(IRunHandle inner, TimeSpan perLine)
        {
            _inner = inner;
            _forwarding = Task.Run(async () =>
            {
                await foreach (var line in inner.Lines.ReadAllAsync())
                {
                    await Task.Delay(perLine);
                    await _lines.Writer.WriteAsync(line);
                }

                _lines.Writer.Complete();
            });
            Exit = Task.Run(async () =>
            {
                var exit = await inner.Exit;
                await _forwarding;
                return exit;
            });
        }

        public ChannelReader<string> Lines => _lines.Reader;
        public Task<RunExit> Exit { get; }
        public int? ProcessId => _inner.ProcessId;
        public Task PauseAsync() => _inner.PauseAsync();
        public Task ResumeAsync() => _inner.ResumeAsync();
        public Task StopAsync(TimeSpan grace) => _inner.StopAsync(grace);
        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }
}
