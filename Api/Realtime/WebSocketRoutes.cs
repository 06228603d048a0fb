using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Optimizations;
using Backtesting.Storage;
using Backtesting.Engine.Protocol;

namespace Backtesting.Api.Realtime;

/// <summary>
/// Plain WebSocket endpoints carrying the seed's messages as text frames:
/// <c>/ws/backtest/{id}/progress</c> (progress, errors, completion), <c>/ws/backtest/{id}/results</c> (trades and
/// equity points as they are produced, then the completion), and <c>/ws/backtest</c>, which speaks the seed's
/// client protocol: <c>{"type":"subscribe","backtestId":"..."}</c> and <c>{"type":"unsubscribe",...}</c>.
/// Each starts with the snapshot. The single-backtest endpoints close after the completion.
/// </summary>
public static partial class WebSocketRoutes
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(20);

    /// <summary>Where a backtest's progress is followed over a WebSocket (the start's answer names it).</summary>
    public static string ProgressUrl(Guid id) => $"/ws/backtest/{id}/progress";

    public static void MapBacktestWebSockets(this IEndpointRouteBuilder app)
    {
        app.Map("/ws/backtest/{id:guid}/progress", (HttpContext context, Guid id) => ServeOne(context, id, EventSelection.Progress))
            .RequireAuthorization().ExcludeFromDescription();
        app.Map("/ws/backtest/{id:guid}/results", (HttpContext context, Guid id) => ServeOne(context, id, EventSelection.Results))
            .RequireAuthorization().ExcludeFromDescription();
        app.Map("/ws/backtest", (Delegate)ServeProtocol).RequireAuthorization().ExcludeFromDescription();
        app.Map("/ws/optimization/{id:guid}", ServeOptimization).RequireAuthorization().ExcludeFromDescription();
    }

    /// <summary>Where an optimization job is followed over a WebSocket: its status and stored trials, then its live events.</summary>
    public static string OptimizationUrl(Guid id) => $"/ws/optimization/{id}";

    private static Task<IResult> ServeOne(HttpContext context, Guid id, EventSelection selection)
    {
        var services = context.RequestServices;
        return Serve(context, "backtest", id,
            async () => await services.GetRequiredService<BacktestAccess>().FindAsync(id, context.User.ApiUser(), context.RequestAborted) is not null,
            () => new BacktestLiveSource(id, services.GetRequiredService<IClusterClient>(), services.GetRequiredService<BacktestEventRelay>(), selection));
    }

    private static Task<IResult> ServeOptimization(HttpContext context, Guid id)
    {
        var services = context.RequestServices;
        return Serve(context, "optimization", id,
            async () => await services.GetRequiredService<OptimizationAccess>().FindAsync(id, context.User.ApiUser(), context.RequestAborted) is not null,
            () => new OptimizationLiveSource(id, services.GetRequiredService<IClusterClient>(), services.GetRequiredService<OptimizationEventRelay>(),
                services.GetRequiredService<PostgresOptimizationStore>()));
    }

    /// <summary>One source over one socket: its snapshot, its live events, and a close once it ended. Another owner's is a 404.</summary>
    private static async Task<IResult> Serve(HttpContext context, string what, Guid id, Func<Task<bool>> visible, Func<ILiveSource> source)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Results.Problem(statusCode: 400, title: "WebSocket expected", detail: "connect with a WebSocket client (Upgrade: websocket)");
        }

        if (!await visible())
        {
            return Results.Problem(statusCode: 404, title: "Not found", detail: $"{what} {id} not found");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = KeepAlive });
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        using var sender = new SocketSender(socket);
        // Reading is needed to notice the client's close frame; the client sends nothing else here.
        var reading = DrainAsync(socket, closed);
        try
        {
            await SubscriptionPump.RunAsync(source(), sender.SendAsync, null, closed.Token);
            await CloseAsync(socket, $"{what} ended");
            // Wait for the client's close frame: ending the request at once would reset the connection and could
            // lose the last messages still unread on the client's side.
            await reading.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or TimeoutException)
        {
            // the client went away, or did not answer the close
        }

        await closed.CancelAsync();
        await reading;
        return Results.Empty;
    }

    private static async Task<IResult> ServeProtocol(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Results.Problem(statusCode: 400, title: "WebSocket expected", detail: "connect with a WebSocket client (Upgrade: websocket)");
        }

        var services = context.RequestServices;
        var access = services.GetRequiredService<BacktestAccess>();
        var client = services.GetRequiredService<IClusterClient>();
        var relay = services.GetRequiredService<BacktestEventRelay>();
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebSocketRoutes));
        var user = context.User.ApiUser();

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = KeepAlive });
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        using var sender = new SocketSender(socket);
        var pumps = new ConcurrentDictionary<Guid, (CancellationTokenSource Cancellation, Task Pump)>();
        var buffer = new byte[16 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var text = await ReceiveTextAsync(socket, buffer, connection.Token);
                if (text is null)
                {
                    break;
                }

                var (type, idText, selection) = ParseClientMessage(text);
                if (type is null)
                {
                    await sender.SendAsync(ProtocolError(Guid.Empty, "messages are {\"type\":\"subscribe\"|\"unsubscribe\",\"backtestId\":\"...\"}"), connection.Token);
                    continue;
                }

                if (!Guid.TryParse(idText, out var id))
                {
                    await sender.SendAsync(ProtocolError(Guid.Empty, $"backtestId '{idText}' is not a backtest id"), connection.Token);
                    continue;
                }

                if (type == "unsubscribe")
                {
                    if (pumps.TryRemove(id, out var running))
                    {
                        await running.Cancellation.CancelAsync();
                    }

                    continue;
                }

                if (pumps.ContainsKey(id))
                {
                    continue;
                }

                if (await access.FindAsync(id, user, connection.Token) is null)
                {
                    await sender.SendAsync(ProtocolError(id, $"backtest {id} not found"), connection.Token);
                    continue;
                }

                var cancellation = CancellationTokenSource.CreateLinkedTokenSource(connection.Token);
                var pump = Task.Run(async () =>
                {
                    try
                    {
                        await SubscriptionPump.RunAsync(id, client, relay, selection, sender.SendAsync, null, cancellation.Token);
                    }
                    catch (Exception e) when (e is OperationCanceledException or WebSocketException)
                    {
                        // unsubscribed, or the client went away
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        LogRelayFailed(log, e, id);
                    }
                }, CancellationToken.None);
                pumps[id] = (cancellation, pump);
            }

            if (socket.State == WebSocketState.CloseReceived)
            {
                await CloseAsync(socket, "bye");
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // the client went away
        }
        finally
        {
            await connection.CancelAsync();
            await Task.WhenAll(pumps.Values.Select(p => p.Pump));
            foreach (var (cancellation, _) in pumps.Values)
            {
                cancellation.Dispose();
            }
        }

        return Results.Empty;
    }

    /// <summary>Reads a client message: its type (subscribe | unsubscribe), backtest id and optional event selection.</summary>
    internal static (string? Type, string? BacktestId, EventSelection Selection) ParseClientMessage(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement)
                || typeElement.GetString() is not ("subscribe" or "unsubscribe") || !root.TryGetProperty("backtestId", out var idElement))
            {
                return (null, null, EventSelection.Progress);
            }

            // The seed's client takes progress, errors and completions; "events": "all" adds trades and equity points.
            var selection = root.TryGetProperty("events", out var events) && events.ValueKind == JsonValueKind.String
                ? events.GetString() switch
                {
                    "all" => EventSelection.All,
                    "results" => EventSelection.Results,
                    _ => EventSelection.Progress,
                }
                : EventSelection.Progress;
            return (typeElement.GetString(), idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : idElement.ToString(), selection);
        }
        catch (JsonException)
        {
            return (null, null, EventSelection.Progress);
        }
    }

    /// <summary>A refused request, in the seed's error shape (errorType validation).</summary>
    private static RelayedEvent ProtocolError(Guid id, string message) =>
        Snapshot.Message(id, MessageTypes.Error, DateTime.UtcNow,
            new BacktestErrorData(ErrorTypes.Validation, message, new BacktestErrorDetails(null, null, null, true)));

    private static async Task<string?> ReceiveTextAsync(WebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (message.Length > 64 * 1024)
            {
                return "{}"; // far larger than any client message: answered as malformed
            }

            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
    }

    private static async Task DrainAsync(WebSocket socket, CancellationTokenSource closed)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, closed.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // closing
        }

        await closed.CancelAsync();
    }

    private static async Task CloseAsync(WebSocket socket, string reason)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason, timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException)
            {
                // the client went away first
            }
        }
    }

    /// <summary>Sends text frames one at a time (a WebSocket allows one send in flight).</summary>
    private sealed class SocketSender(WebSocket socket) : IDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public async Task SendAsync(RelayedEvent message, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                // The event's bytes were encoded once by the relay, for every socket.
                await socket.SendAsync(message.Utf8, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }

        public void Dispose() => _gate.Dispose();
    }
}
