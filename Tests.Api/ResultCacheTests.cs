using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Backtesting.Tests.Api;

/// <summary>The result cache across owners: a hit copies the results and names no other owner's backtest anywhere.</summary>
[Collection(ApiCollection.Name)]
public sealed class ResultCacheTests(ApiFixture fixture)
{
    [Fact]
    public async Task A_cache_hit_on_another_owners_run_reveals_nothing_of_that_run_and_leaves_it_as_it_was()
    {
        var (ownerA, _, _) = await fixture.NewUserAsync("cache-a");
        var (ownerB, _, keyB) = await fixture.NewUserAsync("cache-b");
        using var a = ownerA;
        using var b = ownerB;
        // A config of this test's own (an odd balance), so no other test's run can serve either start.
        const int balance = 123_457;
        var runA = await ApiFixture.StartAsync(a, ApiFixture.Config(c => { c["initialBalance"] = balance; c["useCache"] = false; }));
        Assert.Equal("completed", await ApiFixture.WaitForEndAsync(a, runA));
        var listingA = await a.GetStringAsync("/api/v1/nautilus/backtest/list");
        var statusA = await a.GetStringAsync($"/api/v1/nautilus/backtest/status/{runA}");

        var runB = await ApiFixture.StartAsync(b, ApiFixture.Config(c => c["initialBalance"] = balance));

        var statusB = await b.GetStringAsync($"/api/v1/nautilus/backtest/status/{runB}");
        using (var status = JsonDocument.Parse(statusB))
        {
            Assert.Equal("completed", status.RootElement.GetProperty("status").GetString());
            Assert.True(status.RootElement.GetProperty("fromCache").GetBoolean());
        }

        var resultsA = await a.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/results/{runA}");
        var resultsB = await b.GetFromJsonAsync<JsonElement>($"/api/v1/nautilus/backtest/results/{runB}");
        Assert.Equal(resultsA.GetProperty("summary").GetRawText(), resultsB.GetProperty("summary").GetRawText());

        var seenByB = new List<string>
        {
            statusB,
            resultsB.GetRawText(),
            await b.GetStringAsync("/api/v1/nautilus/backtest/list"),
            await b.GetStringAsync("/api/v1/nautilus/backtest/queue"),
            await b.GetStringAsync($"/api/v1/nautilus/backtest/export/{runB}?format=json"),
        };
        using (var socket = new ClientWebSocket())
        {
            var ws = new UriBuilder(fixture.BaseAddress) { Scheme = "ws", Path = $"/ws/backtest/{runB}/progress", Query = $"access_token={keyB}" }.Uri;
            await socket.ConnectAsync(ws, CancellationToken.None);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (await RealtimeTests.ReceiveOrClose(socket, timeout.Token) is { } message)
            {
                seenByB.Add(message.GetRawText());
            }
        }

        Assert.Contains(seenByB, text => text.Contains("backtest_complete", StringComparison.Ordinal));
        foreach (var text in seenByB)
        {
            Assert.DoesNotContain(runA.ToString("D"), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(runA.ToString("N"), text, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(listingA, await a.GetStringAsync("/api/v1/nautilus/backtest/list"));
        Assert.Equal(statusA, await a.GetStringAsync($"/api/v1/nautilus/backtest/status/{runA}"));
    }
}
