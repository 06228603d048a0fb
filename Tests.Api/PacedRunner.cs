using System.Text.Json.Nodes;
using System.Threading.Channels;
using Backtesting.Grains.Runners;

namespace Backtesting.Tests.Api;

/// <summary>
/// Wraps the real in-process runner and hands its protocol lines on at a steady pace, so a short backtest lasts
/// long enough for a subscriber to join while it runs. Only runs the predicate picks are paced. A batch of trades
/// or equity points is handed on as batches of one, one per pace, as a slow run would write them; the items, the
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
                    foreach (var one in Split(line))
                    {
                        await Task.Delay(perLine);
                        await _lines.Writer.WriteAsync(one);
                    }
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

        private static IEnumerable<string> Split(string line)
        {
            if (JsonNode.Parse(line) is not JsonObject message || message["data"] is not JsonObject data)
            {
                yield return line;
                yield break;
            }

            // Trades are a list of items; equity is columns of equal length (dates, equity, drawdown).
            string[] columns = data["trades"] is JsonArray ? ["trades"] : data["dates"] is JsonArray ? ["dates", "equity", "drawdown"] : [];
            var count = columns.Length == 0 ? 0 : ((JsonArray)data[columns[0]]!).Count;
            if (count < 2)
            {
                yield return line;
                yield break;
            }

            for (var i = 0; i < count; i++)
            {
                var single = (JsonObject)message.DeepClone();
                foreach (var column in columns)
                {
                    single["data"]![column] = new JsonArray(((JsonArray)data[column]!)[i]!.DeepClone());
                }

                yield return single.ToJsonString();
            }
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
