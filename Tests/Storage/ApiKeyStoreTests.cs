using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Tests.Storage;

/// <summary>The key store on a fresh database: the role belongs to each key, revocation is final and never leaves the API without an admin.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ApiKeyStoreTests(PostgresFixture postgres) : IAsyncLifetime
{
    private NpgsqlDataSource _dataSource = null!;
    private ApiKeyStore _keys = null!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(await postgres.CreateMigratedDatabaseAsync());
        _keys = new ApiKeyStore(_dataSource);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    private static string NewKey() => ApiKeyStore.GenerateKey();

    [Fact]
    public async Task Each_key_keeps_the_role_it_was_issued_with_whatever_the_users_other_keys_get()
    {
        var (user, admin, userAgain) = (NewKey(), NewKey(), NewKey());
        await _keys.AddKeyAsync("xavier", ApiRoles.User, user, null);
        await _keys.AddKeyAsync("xavier", ApiRoles.Admin, admin, null);
        await _keys.AddKeyAsync("xavier", ApiRoles.User, userAgain, null);

        Assert.Equal(new ApiUser("xavier", ApiRoles.User), await _keys.FindUserByKeyAsync(user));
        Assert.Equal(new ApiUser("xavier", ApiRoles.Admin), await _keys.FindUserByKeyAsync(admin));
        Assert.Equal(new ApiUser("xavier", ApiRoles.User), await _keys.FindUserByKeyAsync(userAgain));
    }

    [Fact]
    public async Task Storing_the_same_key_again_updates_it_and_keeps_its_id()
    {
        var key = NewKey();
        var first = await _keys.AddKeyAsync("admin", ApiRoles.Admin, key, "bootstrap");
        var again = await _keys.AddKeyAsync("admin", ApiRoles.Admin, key, "bootstrap");
        Assert.Equal(first, again);
        Assert.Single(await _keys.ListKeysAsync());
    }

    [Fact]
    public async Task A_revoked_key_stops_resolving_and_storing_it_again_does_not_bring_it_back()
    {
        var (spare, key) = (NewKey(), NewKey());
        await _keys.AddKeyAsync("root", ApiRoles.Admin, spare, null);
        var stored = (await _keys.AddKeyAsync("admin", ApiRoles.Admin, key, "bootstrap"))!;

        var revocation = await _keys.RevokeKeyAsync(stored.Id);
        Assert.Equal(new KeyRevocation(RevocationOutcome.Revoked, ApiKeyStore.Hash(key)), revocation);
        Assert.Null(await _keys.FindUserByKeyAsync(key));
        Assert.Null(await _keys.AddKeyAsync("admin", ApiRoles.Admin, key, "bootstrap"));
        Assert.Null(await _keys.FindUserByKeyAsync(key));
        Assert.Equal(RevocationOutcome.AlreadyRevoked, (await _keys.RevokeKeyAsync(stored.Id)).Outcome);
        Assert.NotNull((await _keys.ListKeysAsync()).Single(k => k.Id == stored.Id).RevokedAt);
    }

    [Fact]
    public async Task The_last_live_admin_key_is_not_revoked_but_user_keys_and_unknown_ids_are_answered()
    {
        var admin = (await _keys.AddKeyAsync("root", ApiRoles.Admin, NewKey(), null))!;
        var user = (await _keys.AddKeyAsync("root", ApiRoles.User, NewKey(), null))!;

        Assert.Equal(new KeyRevocation(RevocationOutcome.LastAdminKey, null), await _keys.RevokeKeyAsync(admin.Id));
        Assert.Null((await _keys.ListKeysAsync()).Single(k => k.Id == admin.Id).RevokedAt);
        Assert.Equal(RevocationOutcome.Revoked, (await _keys.RevokeKeyAsync(user.Id)).Outcome);
        Assert.Equal(new KeyRevocation(RevocationOutcome.NotFound, null), await _keys.RevokeKeyAsync(user.Id + 1000));
    }

    [Fact]
    public async Task Two_admins_revoking_the_last_two_admin_keys_at_once_leave_one()
    {
        var first = (await _keys.AddKeyAsync("root", ApiRoles.Admin, NewKey(), null))!;
        var second = (await _keys.AddKeyAsync("ops", ApiRoles.Admin, NewKey(), null))!;

        var outcomes = await Task.WhenAll(Task.Run(() => _keys.RevokeKeyAsync(first.Id)), Task.Run(() => _keys.RevokeKeyAsync(second.Id)));

        Assert.Equal([RevocationOutcome.Revoked, RevocationOutcome.LastAdminKey], outcomes.Select(o => o.Outcome).Order());
        Assert.Single(await _keys.ListKeysAsync(), k => k.Role == ApiRoles.Admin && k.RevokedAt is null);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("nul\0user")]
    [InlineData("tab\tuser")]
    public async Task A_user_id_that_is_empty_or_has_control_characters_is_refused_before_the_database(string userId)
    {
        Assert.NotNull(ApiKeyStore.UserIdError(userId));
        await Assert.ThrowsAsync<ArgumentException>(() => _keys.AddKeyAsync(userId, ApiRoles.User, NewKey(), null));
        Assert.Empty(await _keys.ListKeysAsync());
    }
}
