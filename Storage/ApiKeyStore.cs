using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Backtesting.Storage;

/// <summary>A caller of the API: the owner of backtests, with a role.</summary>
public sealed record ApiUser(string UserId, string Role)
{
    public bool IsAdmin => Role == ApiRoles.Admin;
}

public static class ApiRoles
{
    public const string User = "user";
    public const string Admin = "admin";

    public static bool IsKnown(string role) => role is User or Admin;
}

/// <summary>What the rate limit decided about one start.</summary>
/// <param name="ReservationId">The start-log row taken for this start (release it when the start fails).</param>
/// <param name="RetryAfter">When refused: how long until the oldest start in the window leaves it.</param>
public sealed record StartReservation(bool Allowed, long? ReservationId, TimeSpan RetryAfter);

/// <summary>
/// API users, their keys (stored as SHA-256 hashes only) and the per-user start log, in the tables of
/// <c>sql/020_api_keys.sql</c>.
/// </summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource)
{
    /// <summary>Keys shorter than this are refused: the hash is only as strong as the key's randomness.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>A new random key: 32 bytes, URL-safe base64 with a recognizable prefix.</summary>
    public static string GenerateKey() =>
        "bt_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The user a key belongs to, or null for an unknown or revoked key.</summary>
    public Task<ApiUser?> FindUserByKeyAsync(string key, CancellationToken cancellationToken = default) =>
        FindUserByHashAsync(Hash(key), cancellationToken);

    /// <summary>The user of a live key given by its hash (what an admin's signed dashboard cookie carries).</summary>
    public async Task<ApiUser?> FindUserByHashAsync(string keyHash, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT u.user_id, u.role FROM api_keys k JOIN api_users u ON u.user_id = k.user_id
             WHERE k.key_hash = @hash AND k.revoked_at IS NULL
            """);
        command.Parameters.AddWithValue("hash", keyHash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new ApiUser(reader.GetString(0), reader.GetString(1)) : null;
    }

    /// <summary>
    /// Stores a key for the user, creating the user (or setting its role) first. Storing the same key again
    /// changes nothing, so a start-up script may call this on every run.
    /// </summary>
    /// <exception cref="ArgumentException">The key is too short, the user id empty or the role unknown.</exception>
    public async Task AddKeyAsync(string userId, string role, string key, string? label, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(userId) || userId.Length > 100)
        {
            throw new ArgumentException("userId must be 1 to 100 characters", nameof(userId));
        }

        if (!ApiRoles.IsKnown(role))
        {
            throw new ArgumentException($"role must be '{ApiRoles.User}' or '{ApiRoles.Admin}'", nameof(role));
        }

        if (key.Length < MinimumKeyLength)
        {
            throw new ArgumentException($"an API key must be at least {MinimumKeyLength} characters", nameof(key));
        }

        await using var batch = dataSource.CreateBatch();
        var user = new NpgsqlBatchCommand("""
            INSERT INTO api_users (user_id, role) VALUES (@user, @role)
            ON CONFLICT (user_id) DO UPDATE SET role = EXCLUDED.role
            """);
        user.Parameters.AddWithValue("user", userId);
        user.Parameters.AddWithValue("role", role);
        var keyRow = new NpgsqlBatchCommand("""
            INSERT INTO api_keys (key_hash, user_id, prefix, label) VALUES (@hash, @user, @prefix, @label)
            ON CONFLICT (key_hash) DO UPDATE SET user_id = EXCLUDED.user_id, revoked_at = NULL
            """);
        keyRow.Parameters.AddWithValue("hash", Hash(key));
        keyRow.Parameters.AddWithValue("user", userId);
        keyRow.Parameters.AddWithValue("prefix", key[..Math.Min(6, key.Length)]);
        keyRow.Parameters.AddWithValue("label", (object?)label ?? DBNull.Value);
        batch.BatchCommands.Add(user);
        batch.BatchCommands.Add(keyRow);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Takes one start from the user's allowance of <paramref name="limit"/> per <paramref name="window"/>, or
    /// says when the next one frees up. Serialized per user by a transaction-scoped advisory lock, so concurrent
    /// starts on several API instances cannot both take the last one.
    /// </summary>
    public async Task<StartReservation> TryReserveStartAsync(string userId, int limit, TimeSpan window, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('api-start:' || @user, 0))", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("user", userId);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        DateTime? oldest = null;
        long count;
        await using (var countCommand = new NpgsqlCommand("""
            SELECT count(*), min(started_at) FROM api_start_log WHERE user_id = @user AND started_at > now() - @window
            """, connection, transaction))
        {
            countCommand.Parameters.AddWithValue("user", userId);
            countCommand.Parameters.AddWithValue("window", window);
            await using var reader = await countCommand.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            count = reader.GetInt64(0);
            if (!reader.IsDBNull(1))
            {
                oldest = reader.GetDateTime(1);
            }
        }

        if (count >= limit)
        {
            await transaction.RollbackAsync(cancellationToken);
            var retry = oldest is { } o ? o + window - DateTime.UtcNow : window;
            return new StartReservation(false, null, retry > TimeSpan.Zero ? retry : TimeSpan.FromSeconds(1));
        }

        await using var insert = new NpgsqlCommand("INSERT INTO api_start_log (user_id) VALUES (@user) RETURNING id", connection, transaction);
        insert.Parameters.AddWithValue("user", userId);
        var id = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return new StartReservation(true, id, TimeSpan.Zero);
    }

    /// <summary>Gives a reserved start back (the start was refused, e.g. an invalid config).</summary>
    public async Task ReleaseStartAsync(long reservationId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM api_start_log WHERE id = @id");
        command.Parameters.AddWithValue("id", reservationId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records which backtest a reserved start created.</summary>
    public async Task AttachStartAsync(long reservationId, Guid backtestId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("UPDATE api_start_log SET backtest_id = @backtest WHERE id = @id");
        command.Parameters.AddWithValue("id", reservationId);
        command.Parameters.AddWithValue("backtest", backtestId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
