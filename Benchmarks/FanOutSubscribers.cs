using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;

namespace Backtesting.Benchmarks;

/// <summary>How a benchmark subscriber reads each message.</summary>
internal enum ClientParse
{
    /// <summary>Type and timestamp only: System.Text.Json still reads and validates every byte of the message.</summary>
    Envelope,

    /// <summary>The whole message into a JsonElement tree, as a client that uses the data does.</summary>
    Tree,
}

/// <summary>
/// The fan-out benchmark's SignalR subscribers, in a process of their own as real clients are: in the API's process
/// their receive work shared its thread pool, and the server's own work (the completion's path through the cluster)
/// queued behind theirs. One process serves every round, so its code is as warm as the server's. The protocol, a
/// line at a time: the parent sends <c>subscribe ID PARSE KEY</c> (the owner's API key); the child answers <c>ready</c> once every subscriber
/// has its snapshot; the parent sends <c>go TICKS</c> (events written before that UTC time are not the run's, see
/// ApiBench) or <c>abort</c>; the child prints one <c>event CLIENT TYPE MS</c> line per counted event, once every
/// subscriber had the completion, then <c>end</c>. End of input ends the child.
/// </summary>
internal sealed class FanOutSubscribers : IDisposable
{
    public const string ChildMode = "fanout-subscribers";

    private readonly Process _process;

    private FanOutSubscribers(Process process) => _process = process;

    private sealed record Envelope(string Type, DateTime Timestamp);

    /// <summary>Starts this program as the subscribers' process.</summary>
    public static FanOutSubscribers Start(Uri api, int subscribers)
    {
        var start = SelfStart.Info();
        foreach (var argument in new[] { ChildMode, api.ToString(), subscribers.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        return new FanOutSubscribers(Process.Start(start) ?? throw new InvalidOperationException("could not start the subscribers' process"));
    }

    /// <summary>Joins every subscriber to the backtest; returns once each has its snapshot.</summary>
    public async Task SubscribeAsync(Guid backtest, ClientParse parse, string key)
    {
        await SendAsync($"subscribe {backtest} {parse} {key}");
        var ready = await _process.StandardOutput.ReadLineAsync();
        if (ready != "ready")
        {
            throw new InvalidOperationException($"the subscribers' process said '{ready}' instead of ready");
        }
    }

    /// <summary>Counts events written from <paramref name="cutoff"/> on; returns them once every subscriber had the completion.</summary>
    public async Task<List<(int Client, string Type, double Ms)>> GoAsync(DateTime cutoff)
    {
        await SendAsync(string.Create(CultureInfo.InvariantCulture, $"go {cutoff.Ticks}"));
        return await ReadUntilEndAsync();
    }

    public async Task AbortAsync()
    {
        await SendAsync("abort");
        await ReadUntilEndAsync();
    }

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    private async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    private async Task<List<(int Client, string Type, double Ms)>> ReadUntilEndAsync()
    {
        var events = new List<(int, string, double)>();
        while (await _process.StandardOutput.ReadLineAsync() is { } line && line != "end")
        {
            if (line.Split(' ') is ["event", var client, var type, var ms])
            {
                events.Add((int.Parse(client, CultureInfo.InvariantCulture), type, double.Parse(ms, CultureInfo.InvariantCulture)));
            }
        }

        return events;
    }

    /// <summary>The child: the subscribers themselves.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var api = new Uri(args[0]);
        var subscribers = int.Parse(args[1], CultureInfo.InvariantCulture);
        while (await Console.In.ReadLineAsync() is { } command)
        {
            if (command.Split(' ') is ["subscribe", var backtest, var parse, var key])
            {
                await RoundAsync(api, key, backtest, subscribers, Enum.Parse<ClientParse>(parse));
            }
        }

        return 0;
    }

    private static async Task RoundAsync(Uri api, string key, string backtest, int subscribers, ClientParse parse)
    {
        var cutoff = long.MaxValue;
        var events = new ConcurrentQueue<(int Client, string Type, double Ms)>();
        var done = new TaskCompletionSource[subscribers];
        var connections = new List<HubConnection>();
        for (var i = 0; i < subscribers; i++)
        {
            var client = i;
            done[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(api, "/hubs/backtests"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(key))
                .Build();
            var snapshotSeen = false;
            void Received(DateTime received, string type, DateTime written)
            {
                if (!snapshotSeen)
                {
                    snapshotSeen = true; // the snapshot is made when the subscriber joins, not by the worker
                    return;
                }

                if (written.Ticks < Interlocked.Read(ref cutoff))
                {
                    return;
                }

                events.Enqueue((client, type, (received - written).TotalMilliseconds));
                if (type == "backtest_complete")
                {
                    done[client].TrySetResult();
                }
            }

            if (parse == ClientParse.Envelope)
            {
                connection.On<Envelope>("message", m => Received(DateTime.UtcNow, m.Type, m.Timestamp.ToUniversalTime()));
            }
            else
            {
                connection.On<JsonElement>("message", m => Received(DateTime.UtcNow, m.GetProperty("type").GetString() ?? "?",
                    m.GetProperty("timestamp").GetDateTime().ToUniversalTime()));
            }

            await connection.StartAsync();
            await connection.InvokeAsync("Subscribe", backtest);
            connections.Add(connection);
        }

        Console.WriteLine("ready");
        if ((await Console.In.ReadLineAsync())?.Split(' ') is ["go", var ticks])
        {
            Interlocked.Exchange(ref cutoff, long.Parse(ticks, CultureInfo.InvariantCulture));
            try
            {
                await Task.WhenAll(done.Select(d => d.Task)).WaitAsync(TimeSpan.FromMinutes(5));
            }
            catch (TimeoutException)
            {
                // The parent counts the subscribers without a completion.
            }
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        foreach (var (client, type, ms) in events)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"event {client} {type} {ms:R}"));
        }

        Console.WriteLine("end");
    }
}
