using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Optimizations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Backtesting.Api.Realtime;

/// <summary>
/// SignalR hub at <c>/hubs/backtests</c>. <c>Subscribe(backtestId)</c> returns once the snapshot was sent; after it
/// the connection receives every event of that backtest (progress, trades, equity, errors, completion) through
/// the client method <c>message</c>, each one exactly the seed's message object. <c>SubscribeOptimization(id)</c> does
/// the same for an optimization job: its status and stored trials first, then its live events, through <c>message</c>.
/// </summary>
[Authorize]
public sealed class BacktestHub(BacktestAccess access, HubSubscriptions subscriptions, OptimizationAccess optimizations,
    OptimizationSubscriptions optimizationSubscriptions) : Hub
{
    /// <summary>The client method every message is sent to.</summary>
    public const string MessageMethod = "message";

    public async Task Subscribe(string backtestId)
    {
        var id = await Accessible(backtestId);
        await subscriptions.AddAsync(Context.ConnectionId, id, Context.ConnectionAborted);
    }

    public async Task Unsubscribe(string backtestId)
    {
        if (Guid.TryParse(backtestId, out var id))
        {
            await subscriptions.RemoveAsync(Context.ConnectionId, id);
        }
    }

    /// <summary>Returns once the job's snapshot was sent; another owner's job is "not found", as an unknown one.</summary>
    public async Task SubscribeOptimization(string optimizationId)
    {
        if (!Guid.TryParse(optimizationId, out var id) || await optimizations.FindAsync(id, Context.User!.ApiUser(), Context.ConnectionAborted) is null)
        {
            throw new HubException($"optimization {optimizationId} not found");
        }

        await optimizationSubscriptions.AddAsync(Context.ConnectionId, id, Context.ConnectionAborted);
    }

    public Task UnsubscribeOptimization(string optimizationId)
    {
        if (Guid.TryParse(optimizationId, out var id))
        {
            optimizationSubscriptions.Remove(Context.ConnectionId, id);
        }

        return Task.CompletedTask;
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        optimizationSubscriptions.RemoveConnection(Context.ConnectionId);
        await subscriptions.RemoveConnectionAsync(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    private async Task<Guid> Accessible(string backtestId)
    {
        if (!Guid.TryParse(backtestId, out var id) || await access.FindAsync(id, Context.User!.ApiUser(), Context.ConnectionAborted) is null)
        {
            throw new HubException($"backtest {backtestId} not found");
        }

        return id;
    }
}
