using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;

namespace Backtesting.Benchmarks.Chaos;

/// <summary>One answer a polling client got: when, which route, how long, which status, whether it carried Retry-After.</summary>
internal readonly record struct Answer(DateTime At, string Route, double Milliseconds, int Status, bool RetryAfter);

/// <summary>
/// Issue 18 §3 during the chaos run: <c>clients</c> HTTP clients each asking a backtest's status and its owner's listing in
/// turn, and <c>subscribers</c> SignalR connections (reconnecting by themselves, subscribing again on reconnect) each
/// following its share of the backtests. Records every answer and every completion a subscriber heard.
/// </summary>
internal sealed class ApiLoad(Uri api, IReadOnlyDictionary<string, string> keys) : IAsyncDisposable
{
    private const string Routes = "/api/v1/nautilus/backtest";
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pollers = [];
    private readonly List<HubConnection> _hubs = [];

    public ConcurrentQueue<Answer> Answers { get; } = new();

    /// <summary>Per subscriber, the backtests it follows and the completions it heard (by backtest id).</summary>
    public List<(HashSet<Guid> Follows, ConcurrentDictionary<Guid, int> Completed)> Subscribers { get; } = [];

    public int Reconnects;

    public void StartPolling(int clients, TimeSpan pause, Func<string, Guid?> pick)
    {
        var owners = keys.Keys.ToArray();
        for (var c = 0; c < clients; c++)
        {
            var owner = owners[c % owners.Length];
            var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys[owner]);
            var offset = TimeSpan.FromMilliseconds(Random.Shared.Next((int)pause.TotalMilliseconds));
            _pollers.Add(Task.Run(async () =>
            {
                using var client = http;
                await Delay(offset);
                var turn = 0;
                while (!_stop.IsCancellationRequested)
                {
                    // A backtest of the client's own owner: another owner's is a 404 by design.
                    var route = turn++ % 2 == 0 && pick(owner) is { } backtest ? $"{Routes}/status/{backtest}" : $"{Routes}/list?pageSize=20";
                    await Ask(client, route, route.Contains("/status/", StringComparison.Ordinal) ? "status" : "list");
                    await Delay(pause);
                }
            }));
        }
    }

    /// <summary>Connects <paramref name="count"/> subscribers; subscriber k follows the backtests whose index is k modulo the count.</summary>
    public async Task StartSubscribers(int count, IReadOnlyList<(Guid Id, string Owner)> backtests)
    {
        for (var k = 0; k < count; k++)
        {
            var follows = backtests.Where((_, i) => i % count == k).ToList();
            if (follows.Count == 0)
            {
                continue;
            }

            var completed = new ConcurrentDictionary<Guid, int>();
            var key = keys[follows[0].Owner];
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(api, "/hubs/backtests"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(key))
                .WithAutomaticReconnect(new Forever())
                .Build();
            hub.On<JsonElement>("message", m =>
            {
                if (m.GetProperty("type").GetString() == "backtest_complete" && Guid.TryParse(m.GetProperty("backtestId").GetString(), out var id))
                {
                    completed.AddOrUpdate(id, 1, (_, n) => n + 1);
                }
            });
            // Another owner's backtest is refused by the hub: a subscriber follows only what its key may see.
            var own = follows.Where(f => f.Owner == follows[0].Owner).Select(f => f.Id).ToList();
            hub.Reconnected += async _ =>
            {
                Interlocked.Increment(ref Reconnects);
                await SubscribeAll(hub, own);
            };
            await hub.StartAsync();
            await SubscribeAll(hub, own);
            _hubs.Add(hub);
            Subscribers.Add(([.. own], completed));
        }
    }

    private static async Task SubscribeAll(HubConnection hub, List<Guid> ids)
    {
        foreach (var id in ids)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await hub.InvokeAsync("Subscribe", id.ToString());
                    break;
                }
                catch (Exception) when (attempt < 30)
                {
                    // The cluster or the database is away for a moment: the hub refuses; ask again.
                    await Task.Delay(1000);
                }
            }
        }
    }

    private async Task Ask(HttpClient client, string route, string kind)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.GetAsync(route, _stop.Token);
            Answers.Enqueue(new Answer(DateTime.UtcNow, kind, Stopwatch.GetElapsedTime(started).TotalMilliseconds, (int)response.StatusCode,
                response.Headers.RetryAfter is not null));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (HttpRequestException)
        {
            Answers.Enqueue(new Answer(DateTime.UtcNow, kind, Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0, false));
        }
        catch (TaskCanceledException)
        {
            // The client's own timeout: recorded as no answer.
            Answers.Enqueue(new Answer(DateTime.UtcNow, kind, Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0, false));
        }
    }

    private async Task Delay(TimeSpan pause)
    {
        try
        {
            await Task.Delay(pause, _stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopPolling()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_pollers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopPolling();
        foreach (var hub in _hubs)
        {
            await hub.DisposeAsync();
        }

        _stop.Dispose();
    }

    /// <summary>Reconnects for as long as the run lasts, every second.</summary>
    private sealed class Forever : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => TimeSpan.FromSeconds(1);
    }

    public static bool IsServerError(Answer a) => a.Status >= (int)HttpStatusCode.InternalServerError && a.Status != (int)HttpStatusCode.ServiceUnavailable;
}
