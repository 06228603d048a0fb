using Backtesting.Api.Auth;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;

namespace Backtesting.Api.Admin.Contracts;

/// <summary>The body of <c>POST /api/v1/keys</c>.</summary>
public sealed record CreateKeyRequest(string UserId, string Role = ApiRoles.User, string? Label = null);

/// <param name="Key">Shown once: only its hash is stored.</param>
public sealed record CreateKeyResponse(long Id, string UserId, string Role, string? Label, string Key);

/// <summary>A key in the admins' listing: never the key or its hash.</summary>
public sealed record KeyResponse(long Id, string UserId, string Role, string? Label, DateTimeOffset CreatedAt, bool Revoked, DateTimeOffset? RevokedAt)
{
    public static KeyResponse Of(ApiKeyInfo key) => new(key.Id, key.UserId, key.Role, key.Label, key.CreatedAt, key.RevokedAt is not null, key.RevokedAt);
}

public sealed record ClusterResponse(ClusterStatus Cluster, string OrleansDashboard);
