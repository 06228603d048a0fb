using Backtesting.Storage;

namespace Backtesting.Api.Optimizations;

/// <summary>
/// Who may see an optimization job: its owner, and admins; everyone else is told it does not exist (404), as for backtests.
/// </summary>
public sealed class OptimizationAccess(PostgresOptimizationStore store)
{
    public async Task<OptimizationRecord?> FindAsync(Guid id, ApiUser user, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(id, cancellationToken);
        return record is not null && (user.IsAdmin || record.Owner == user.UserId) ? record : null;
    }
}
