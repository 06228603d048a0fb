using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Backtesting.Api.Realtime;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Api;

/// <summary>SignalR and the plain WebSockets: snapshot first, then live events, in the seed's shapes.</summary>
[Collection(ApiCollection.Name)]
public sealed class RealtimeTests(ApiFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    /// <summary>A run long enough to be watched while it runs (paced by the fixture), never served from the cache.</summary>
    private static Dictionary<string, object?> WatchableConfig() => BacktestRouteTests.MinuteConfig();

    [Fact]
    public async Task A_SignalR_client_receives_the_snapshot_then_progress_then_the_completion()
    {
        var (alice, _, aliceKey) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, WatchableConfig());
        var messages = Channel.CreateUnbounded<JsonElement>();
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(fixture.BaseAddress, "/hubs/backtests"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(aliceKey))
            .Build();
        connection.On<JsonElement>("message", m => messages.Writer.TryWrite(m));
        await connection.StartAsync();
        await connection.InvokeAsync("Subscribe", id.ToString());

        var received = await ReadUntilComplete(messages.Reader);
        Assert.All(received, m => Assert.Equal(id.ToString(), m.GetProperty("backtestId").GetString()));
        var first = received[0];
        Assert.StartsWith("backtest_", first.GetProperty("type").GetString(), StringComparison.Ordinal);
        var complete = received[^1];
        Assert.Equal("backtest_complete", complete.GetProperty("type").GetString());
        Assert.Equal("completed", complete.GetProperty("data").GetProperty("status").GetString());
        // Joined while it waited or ran: live progress arrives between the snapshot and the end; joined after the
        // end (a busy machine): the snapshot is the completion itself.
        if (first.GetProperty("type").GetString() == "backtest_progress")
        {
            Assert.Contains(received.Skip(1), m => m.GetProperty("type").GetString() == "backtest_progress");
        }

        // Subscribing to another user's backtest is refused.
        using var bob = fixture.Client(ApiFixture.BobKey);
        var bobs = await ApiFixture.StartAsync(bob, ApiFixture.Config());
        await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => connection.InvokeAsync("Subscribe", bobs.ToString()));
    }

    [Fact]
    public async Task SignalR_subscribers_of_one_backtest_share_one_group_feed_each_with_its_snapshot_first_and_no_gap_or_duplicate()
    {
        var (alice, _, aliceKey) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, WatchableConfig());
        var subscriptions = fixture.Services.GetRequiredService<HubSubscriptions>();
        var connections = new List<(HubConnection Connection, Channel<JsonElement> Messages)>();
        try
        {
            // Joining one after another while the run goes: each joins at a different point of it.
            for (var i = 0; i < 6; i++)
            {
                var messages = Channel.CreateUnbounded<JsonElement>();
                var connection = new HubConnectionBuilder()
                    .WithUrl(new Uri(fixture.BaseAddress, "/hubs/backtests"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(aliceKey))
                    .Build();
                connection.On<JsonElement>("message", m => messages.Writer.TryWrite(m));
                await connection.StartAsync();
                await connection.InvokeAsync("Subscribe", id.ToString());
                await connection.InvokeAsync("Subscribe", id.ToString()); // a second subscribe changes nothing
                connections.Add((connection, messages));
                await Task.Delay(150);
            }

            // One leaves early: it gets nothing after that, the others go on.
            var leaver = connections[^1];
            await leaver.Connection.InvokeAsync("Unsubscribe", id.ToString());
            // What reached it before Unsubscribe returned was sent while it was subscribed (one connection delivers
            // in order, and the client hands each message over before it completes the invocation that follows):
            // that may even be the completion on a busy machine. Only what comes after counts as a leak.
            while (leaver.Messages.Reader.TryRead(out _))
            {
            }

            var received = new List<List<JsonElement>>();
            foreach (var (_, messages) in connections.Take(connections.Count - 1))
            {
                received.Add(await ReadUntilComplete(messages.Reader));
            }

            Assert.Equal("completed", await ApiFixture.WaitForEndAsync(alice, id));
            var first = received[0];
            if (first[0].GetProperty("type").GetString() == "backtest_complete")
            {
                return; // a busy machine finished the run before anyone joined: nothing live to compare
            }

            var firstLive = Live(first);
            foreach (var messages in received)
            {
                // The snapshot comes first; progress never goes backwards; one completion, last.
                Assert.Equal("backtest_progress", messages[0].GetProperty("type").GetString());
                var bars = messages.Where(m => m.GetProperty("type").GetString() == "backtest_progress")
                    .Select(m => m.GetProperty("data").GetProperty("progress").GetProperty("processedBars").GetInt64()).ToList();
                Assert.Equal(bars.Order(), bars);
                Assert.Single(messages, m => m.GetProperty("type").GetString() == "backtest_complete");

                // Trades and equity points: a later joiner gets exactly the tail of what the first got, none
                // missing after it joined and none twice.
                var live = Live(messages);
                Assert.Equal(live.Count, live.Distinct().Count());
                Assert.Equal(firstLive.Skip(firstLive.Count - live.Count), live);
            }

            Assert.Contains(first, m => m.GetProperty("type").GetString() == "backtest_equity");
            while (leaver.Messages.Reader.TryRead(out var late))
            {
                Assert.NotEqual("backtest_complete", late.GetProperty("type").GetString());
            }

            // The group feed ends with the backtest.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (subscriptions.IsRelaying(id) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.False(subscriptions.IsRelaying(id));
        }
        finally
        {
            foreach (var (connection, _) in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>A subscriber's trades and equity points, as text, in the order received.</summary>
    private static List<string> Live(List<JsonElement> messages) =>
        messages.Where(m => m.GetProperty("type").GetString() is "backtest_trade" or "backtest_equity").Select(m => m.GetRawText()).ToList();

    [Fact]
    public async Task The_seed_protocol_socket_sends_the_seed_shapes()
    {
        var (alice, _, aliceKey) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, WatchableConfig());
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + aliceKey);
        await socket.ConnectAsync(new Uri(WebSocketBase(), "/ws/backtest"), CancellationToken.None);
        await Send(socket, $$"""{"type":"subscribe","backtestId":"{{id}}"}""");

        var received = new List<JsonElement>();
        using var timeout = new CancellationTokenSource(Deadline);
        while (true)
        {
            var message = await Receive(socket, timeout.Token);
            received.Add(message);
            if (message.GetProperty("type").GetString() == "backtest_complete")
            {
                break;
            }
        }

        foreach (var message in received)
        {
            Assert.Equal(["type", "backtestId", "timestamp", "data"], message.EnumerateObject().Select(p => p.Name));
            Assert.Equal(id.ToString(), message.GetProperty("backtestId").GetString());
            var data = message.GetProperty("data");
            switch (message.GetProperty("type").GetString())
            {
                case "backtest_progress":
                    Assert.Equal(["progress", "statistics", "performance"], data.EnumerateObject().Select(p => p.Name));
                    Assert.Equal(["percentage", "currentDate", "processedBars", "totalBars", "estimatedTimeRemaining", "processingRate"],
                        data.GetProperty("progress").EnumerateObject().Select(p => p.Name));
                    Assert.Equal(["tradesExecuted", "currentBalance", "unrealizedPnl", "drawdown"], data.GetProperty("statistics").EnumerateObject().Select(p => p.Name));
                    Assert.Equal(["memoryUsage", "cpuUsage", "diskIO"], data.GetProperty("performance").EnumerateObject().Select(p => p.Name));
                    break;
                case "backtest_complete":
                    Assert.Equal("completed", data.GetProperty("status").GetString());
                    Assert.Equal(["totalTrades", "finalBalance", "totalReturn", "maxDrawdown"], data.GetProperty("summary").EnumerateObject().Select(p => p.Name));
                    Assert.Equal($"/api/v1/nautilus/backtest/results/{id}", data.GetProperty("resultsUrl").GetString());
                    Assert.True(data.TryGetProperty("executionTime", out _));
                    break;
                default:
                    Assert.Fail($"unexpected message on the progress protocol: {message}");
                    break;
            }
        }

        // An unknown id is answered in the seed's error shape; the socket stays usable.
        await Send(socket, $$"""{"type":"subscribe","backtestId":"{{Guid.NewGuid()}}"}""");
        var error = await Receive(socket, timeout.Token);
        Assert.Equal("backtest_error", error.GetProperty("type").GetString());
        Assert.Equal("validation", error.GetProperty("data").GetProperty("errorType").GetString());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }

    [Fact]
    public async Task Progress_and_results_sockets_take_the_key_as_a_query_parameter_and_start_with_the_snapshot()
    {
        var (alice, _, aliceKey) = await fixture.NewUserAsync("alice");
        using var client = alice;
        var id = await ApiFixture.StartAsync(alice, WatchableConfig());

        using var results = new ClientWebSocket();
        await results.ConnectAsync(new Uri(WebSocketBase(), $"/ws/backtest/{id}/results?access_token={aliceKey}"), CancellationToken.None);
        using var progress = new ClientWebSocket();
        await progress.ConnectAsync(new Uri(WebSocketBase(), $"/ws/backtest/{id}/progress?access_token={aliceKey}"), CancellationToken.None);

        using var timeout = new CancellationTokenSource(Deadline);
        var fromResults = await ReadSocketToEnd(results, timeout.Token);
        var fromProgress = await ReadSocketToEnd(progress, timeout.Token);
        Assert.StartsWith("backtest_", fromProgress[0].GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(id.ToString(), fromProgress[0].GetProperty("backtestId").GetString());
        Assert.Equal("backtest_complete", fromProgress[^1].GetProperty("type").GetString());
        Assert.DoesNotContain(fromProgress, m => m.GetProperty("type").GetString() is "backtest_trade" or "backtest_equity");

        Assert.Equal("backtest_complete", fromResults[^1].GetProperty("type").GetString());
        if (fromResults[0].GetProperty("type").GetString() == "backtest_progress")
        {
            // Joined before the end: trades and equity points stream as they are produced.
            Assert.Contains(fromResults, m => m.GetProperty("type").GetString() == "backtest_equity");
        }

        using var bobSocket = new ClientWebSocket();
        var refused = await Assert.ThrowsAnyAsync<WebSocketException>(() =>
            bobSocket.ConnectAsync(new Uri(WebSocketBase(), $"/ws/backtest/{id}/progress?access_token={ApiFixture.BobKey}"), CancellationToken.None));
        Assert.Contains("404", refused.Message, StringComparison.Ordinal);
    }

    private Uri WebSocketBase() => new UriBuilder(fixture.BaseAddress) { Scheme = "ws" }.Uri;

    private static async Task<List<JsonElement>> ReadUntilComplete(ChannelReader<JsonElement> reader)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var received = new List<JsonElement>();
        while (true)
        {
            var message = await reader.ReadAsync(timeout.Token);
            received.Add(message);
            if (message.GetProperty("type").GetString() == "backtest_complete")
            {
                return received;
            }
        }
    }

    private static async Task<List<JsonElement>> ReadSocketToEnd(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var received = new List<JsonElement>();
        while (true)
        {
            var message = await ReceiveOrClose(socket, cancellationToken);
            if (message is null)
            {
                return received;
            }

            received.Add(message.Value);
        }
    }

    private static Task Send(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement> Receive(ClientWebSocket socket, CancellationToken cancellationToken) =>
        await ReceiveOrClose(socket, cancellationToken) ?? throw new InvalidOperationException("the socket closed");

    /// <summary>One whole WebSocket message as JSON, or null once the server closed the socket.</summary>
    internal static async Task<JsonElement?> ReceiveOrClose(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            }
        }
    }
}
