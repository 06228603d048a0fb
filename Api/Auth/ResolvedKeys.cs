using Backtesting.Api.Hosting;
using Backtesting.Storage;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Backtesting.Api.Auth;

/// <summary>
/// This API instance's memory of resolved keys (key hash to user and role, or null for an unknown or revoked key),
/// kept for <c>Api:KeyCacheDuration</c> so a request does not cost a database round trip. A revocation removes its
/// key here at once: on the instance that revoked it directly, on every other instance through
/// <see cref="KeyRevocationListener"/>.
/// </summary>
public sealed class ResolvedKeys(IOptions<ApiOptions> options) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions());

    public bool TryGet(string keyHash, out ApiUser? user) => _cache.TryGetValue(keyHash, out user);

    public void Remember(string keyHash, ApiUser? user) => _cache.Set(keyHash, user, options.Value.KeyCacheDuration);

    public void Forget(string keyHash) => _cache.Remove(keyHash);

    /// <summary>Forgets every key (revocations may have been missed while not listening).</summary>
    public void ForgetAll() => _cache.Compact(1.0);

    public void Dispose() => _cache.Dispose();
}

/// <summary>
/// Listens on PostgreSQL for revocations (<see cref="ApiKeyStore.RevocationChannel"/>, sent by whichever API instance
/// revoked the key, in the revoking transaction) and drops the revoked key from this instance's
/// <see cref="ResolvedKeys"/>, so a key revoked through any instance stops working on all of them at once. Whenever
/// it (re)connects it forgets every resolved key, since a revocation sent while it was not listening is lost; while
/// it cannot listen, a revoked key is still refused within <c>Api:KeyCacheDuration</c>.
/// </summary>
public sealed partial class KeyRevocationListener(NpgsqlDataSource dataSource, ResolvedKeys keys, ILogger<KeyRevocationListener> log) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => keys.Forget(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {ApiKeyStore.RevocationChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                keys.ForgetAll();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                keys.ForgetAll();
                LogNotListening(log, e, RetryDelay);
                try
                {
                    await Task.Delay(RetryDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
