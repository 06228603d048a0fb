using System.Security.Cryptography;
using System.Text;
using Backtesting.Engine.Configuration;
using Npgsql;
using static Backtesting.Storage.NpgsqlValues;

namespace Backtesting.Storage;

/// <summary>A caller of the API: the owner of backtests, with the role of the key it called with.</summary>
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

/// <summary>A key as listings show it: never the key or its hash.</summary>
public sealed record ApiKeyInfo(long Id, string UserId, string Role, string? Label, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

public enum RevocationOutcome
{
    Revoked,
    AlreadyRevoked,
    NotFound,
    /// <summary>Refused: it is the last live admin key.</summary>
    LastAdminKey,
}

/// <param name="KeyHash">The revoked key's hash, to drop it from caches of resolved keys (null when nothing was revoked).</param>
public sealed record KeyRevocation(RevocationOutcome Outcome, string? KeyHash);

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
    /// <summary>The PostgreSQL notification channel a revocation is announced on; the payload is the revoked key's hash.</summary>
    public const string RevocationChannel = "api_key_revoked";

    /// <summary>Keys shorter than this are refused: the hash is only as strong as the key's randomness.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>A new random key: 32 bytes, URL-safe base64 with a recognizable prefix.</summary>
    public static string GenerateKey() =>
        "bt_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The user a key belongs to, with the key's role, or null for an unknown or revoked key.</summary>
    public Task<ApiUser?> FindUserByKeyAsync(string key, CancellationToken cancellationToken = default) =>
        FindUserByHashAsync(Hash(key), cancellationToken);

    /// <summary>The user of a live key given by its hash (what an admin's signed dashboard cookie carries), with the key's role.</summary>
    public async Task<ApiUser?> FindUserByHashAsync(string keyHash, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT user_id, role FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL
            """);
        command.Parameters.AddWithValue("hash", keyHash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new ApiUser(reader.GetString(0), reader.GetString(1)) : null;
    }

    /// <summary>Why a user id is refused (null: it is fine); the rule is <see cref="ConfigValidator.UserId"/>'s.</summary>
    public static string? UserIdError(string? userId) => ConfigValidator.UserId(userId)?.Message;

    /// <summary>
    /// Stores a key with its role for the user, creating the user when new. The role is the key's own: the user's
    /// other keys keep theirs. Storing the same key again sets its user, role and label (a start-up script may call
    /// this on every run), except that a revoked key stays revoked: then nothing changes and the answer is null.
    /// </summary>
    /// <returns>The stored key as listings show it, or null when the key was revoked.</returns>
    /// <exception cref="ArgumentException">The key is too short, the user id invalid or the role unknown.</exception>
    public async Task<ApiKeyInfo?> AddKeyAsync(string userId, string role, string key, string? label, CancellationToken cancellationToken = default)
    {
        if (UserIdError(userId) is { } userError)
        {
            throw new ArgumentException(userError, nameof(userId));
        }

        if (!ApiRoles.IsKnown(role))
        {
            throw new ArgumentException($"role must be '{ApiRoles.User}' or '{ApiRoles.Admin}'", nameof(role));
        }

        if (key.Length < MinimumKeyLength)
        {
            throw new ArgumentException($"an API key must be at least {MinimumKeyLength} characters", nameof(key));
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var user = new NpgsqlCommand("INSERT INTO api_users (user_id) VALUES (@user) ON CONFLICT (user_id) DO NOTHING", connection, transaction))
        {
            user.Parameters.AddWithValue("user", userId);
            await user.ExecuteNonQueryAsync(cancellationToken);
        }

        ApiKeyInfo? stored;
        await using (var keyRow = new NpgsqlCommand($"""
            INSERT INTO api_keys (key_hash, user_id, role, prefix, label) VALUES (@hash, @user, @role, @prefix, @label)
            ON CONFLICT (key_hash) DO UPDATE SET user_id = EXCLUDED.user_id, role = EXCLUDED.role, label = EXCLUDED.label
             WHERE api_keys.revoked_at IS NULL
            RETURNING {KeyColumns}
            """, connection, transaction))
        {
            keyRow.Parameters.AddWithValue("hash", Hash(key));
            keyRow.Parameters.AddWithValue("user", userId);
            keyRow.Parameters.AddWithValue("role", role);
            keyRow.Parameters.AddWithValue("prefix", key[..Math.Min(6, key.Length)]);
            keyRow.Parameters.AddWithValue("label", DbValue(label));
            await using var reader = await keyRow.ExecuteReaderAsync(cancellationToken);
            stored = await reader.ReadAsync(cancellationToken) ? ReadKey(reader) : null;
        }

        await transaction.CommitAsync(cancellationToken);
        return stored;
    }

    /// <summary>Every key, oldest first, as admins see them: never the key or its hash.</summary>
    public async Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {KeyColumns} FROM api_keys ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<ApiKeyInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(ReadKey(reader));
        }

        return keys;
    }

    /// <summary>
    /// Revokes a key at once in the database and announces it on <see cref="RevocationChannel"/> (callers may also
    /// drop it from their own cache of resolved keys: the hash is in the answer). The last live admin key is never revoked, so the API always has an admin; revoking a revoked key
    /// changes nothing. Serialized by a transaction-scoped advisory lock, so two admins revoking the last two admin
    /// keys at once cannot both succeed.
    /// </summary>
    public async Task<KeyRevocation> RevokeKeyAsync(long id, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('api-keys:revoke', 0))", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        string hash, role;
        bool revoked;
        await using (var find = new NpgsqlCommand("SELECT key_hash, role, revoked_at IS NOT NULL FROM api_keys WHERE id = @id", connection, transaction))
        {
            find.Parameters.AddWithValue("id", id);
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return new KeyRevocation(RevocationOutcome.NotFound, null);
            }

            (hash, role, revoked) = (reader.GetString(0), reader.GetString(1), reader.GetBoolean(2));
        }

        if (revoked)
        {
            return new KeyRevocation(RevocationOutcome.AlreadyRevoked, hash);
        }

        if (role == ApiRoles.Admin)
        {
            await using var others = new NpgsqlCommand(
                "SELECT count(*) FROM api_keys WHERE role = @admin AND revoked_at IS NULL AND id <> @id", connection, transaction);
            others.Parameters.AddWithValue("admin", ApiRoles.Admin);
            others.Parameters.AddWithValue("id", id);
            if ((long)(await others.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                return new KeyRevocation(RevocationOutcome.LastAdminKey, null);
            }
        }

        // The notification is delivered on commit, to every API instance listening (they drop the key from their caches).
        await using (var update = new NpgsqlCommand(
            $"UPDATE api_keys SET revoked_at = now() WHERE id = @id; SELECT pg_notify('{RevocationChannel}', @hash)", connection, transaction))
        {
            update.Parameters.AddWithValue("id", id);
            update.Parameters.AddWithValue("hash", hash);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new KeyRevocation(RevocationOutcome.Revoked, hash);
    }

    private const string KeyColumns = "id, user_id, role, label, created_at, revoked_at";

    private static ApiKeyInfo ReadKey(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5));

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
