using Backtesting.Storage;

namespace Backtesting.Api.Backtests;

/// <summary>
/// Who may see a backtest: its owner, and admins. Everyone else is told it does not exist (404), so ids of other
/// users' backtests cannot be probed.
/// </summary>
public sealed class BacktestAccess(IBacktestStore store)
{
    public async Task<BacktestRecord?> FindAsync(Guid id, ApiUser user, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(id, cancellationToken);
        return record is not null && (user.IsAdmin || record.Owner == user.UserId) ? record : null;
    }
}
