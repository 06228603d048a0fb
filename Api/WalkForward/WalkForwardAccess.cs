using Backtesting.Api.Auth;
using Backtesting.Storage;

namespace Backtesting.Api.WalkForward;

/// <summary>Who may see a walk-forward job: its owner, and admins; everyone else is told it does not exist (404), as for optimizations.</summary>
public sealed class WalkForwardAccess(PostgresWalkForwardStore store)
{
    public async Task<WalkForwardRecord?> FindAsync(Guid id, ApiUser user, CancellationToken cancellationToken)
    {
        var record = await store.GetAsync(id, cancellationToken);
        return record is not null && (user.IsAdmin || record.Owner == user.UserId) ? record : null;
    }
}
