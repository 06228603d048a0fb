using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Backtesting.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Backtesting.Tests.Api;

/// <summary>Issuing, listing and revoking API keys: the role belongs to the key, revocation is immediate, nothing secret is listed.</summary>
[Collection(ApiCollection.Name)]
public sealed class KeyRouteTests(ApiFixture fixture)
{
    private static readonly string[] ListedFields = ["id", "userId", "role", "label", "createdAt", "revoked", "revokedAt"];

    private static async Task<(long Id, string Key)> Issue(HttpClient admin, string userId, string role, string? label = null)
    {
        using var response = await admin.PostAsJsonAsync("/api/v1/keys", new { userId, role, label });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /api/v1/keys answered {(int)response.StatusCode}: {body}");
        var created = JsonDocument.Parse(body).RootElement;
        Assert.Equal((userId, role), (created.GetProperty("userId").GetString(), created.GetProperty("role").GetString()));
        Assert.Equal($"/api/v1/keys/{created.GetProperty("id").GetInt64()}", response.Headers.Location?.OriginalString);
        return (created.GetProperty("id").GetInt64(), created.GetProperty("key").GetString()!);
    }

    /// <summary>The role a key acts with: admins may list keys, users get 403.</summary>
    private async Task<string> RoleOf(string key)
    {
        using var client = fixture.Client(key);
        using var response = await client.GetAsync("/api/v1/keys");
        return response.StatusCode switch
        {
            HttpStatusCode.OK => ApiRoles.Admin,
            HttpStatusCode.Forbidden => ApiRoles.User,
            var other => throw new Xunit.Sdk.XunitException($"GET /api/v1/keys answered {(int)other}"),
        };
    }

    private static async Task<JsonElement> Listed(HttpClient admin, long id) =>
        (await admin.GetFromJsonAsync<JsonElement>("/api/v1/keys")).EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == id);

    [Fact]
    public async Task Issuing_a_key_with_either_role_leaves_the_roles_of_the_users_other_keys_as_they_were()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var user = $"xavier-{Guid.NewGuid():N}"[..20];
        var first = await Issue(admin, user, ApiRoles.User);
        var promoted = await Issue(admin, user, ApiRoles.Admin);
        Assert.Equal(ApiRoles.User, await RoleOf(first.Key));
        Assert.Equal(ApiRoles.Admin, await RoleOf(promoted.Key));

        var again = await Issue(admin, user, ApiRoles.User);
        Assert.Equal((ApiRoles.User, ApiRoles.Admin, ApiRoles.User), (await RoleOf(first.Key), await RoleOf(promoted.Key), await RoleOf(again.Key)));
        Assert.Equal(ApiRoles.Admin, (await Listed(admin, promoted.Id)).GetProperty("role").GetString());
    }

    [Fact]
    public async Task The_bootstrap_admin_is_not_demoted_by_issuing_a_user_key_for_it()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var options = fixture.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Backtesting.Api.Hosting.ApiOptions>>().Value;
        var userKey = await Issue(admin, options.BootstrapAdminUser, ApiRoles.User);

        Assert.Equal(ApiRoles.User, await RoleOf(userKey.Key));
        Assert.Equal(ApiRoles.Admin, await RoleOf(ApiFixture.BootstrapKey));
        var bootstrap = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/keys")).EnumerateArray()
            .Single(k => k.GetProperty("label").GetString() == "bootstrap");
        Assert.Equal((options.BootstrapAdminUser, ApiRoles.Admin, false),
            (bootstrap.GetProperty("userId").GetString(), bootstrap.GetProperty("role").GetString(), bootstrap.GetProperty("revoked").GetBoolean()));
    }

    [Fact]
    public async Task A_revoked_key_stops_authenticating_at_once_and_revoking_it_again_changes_nothing()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        foreach (var role in new[] { ApiRoles.User, ApiRoles.Admin })
        {
            var (id, key) = await Issue(admin, $"yolanda-{Guid.NewGuid():N}"[..20], role);
            using var holder = fixture.Client(key);
            // Used once first, so the API has resolved (and cached) it.
            using (var before = await holder.GetAsync("/api/v1/nautilus/backtest/list"))
            {
                Assert.Equal(HttpStatusCode.OK, before.StatusCode);
            }

            using (var revoke = await admin.DeleteAsync($"/api/v1/keys/{id}"))
            {
                Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
            }

            using (var after = await holder.GetAsync("/api/v1/nautilus/backtest/list"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
            }

            var listed = await Listed(admin, id);
            Assert.True(listed.GetProperty("revoked").GetBoolean());
            Assert.Equal(JsonValueKind.String, listed.GetProperty("revokedAt").ValueKind);
            using var again = await admin.DeleteAsync($"/api/v1/keys/{id}");
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }
    }

    [Fact]
    public async Task A_key_revoked_through_another_api_instance_stops_authenticating_here_well_within_the_cache_duration()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var (id, key) = await Issue(admin, $"walter-{Guid.NewGuid():N}"[..20], ApiRoles.User);
        using var holder = fixture.Client(key);
        using (var before = await holder.GetAsync("/api/v1/nautilus/backtest/list"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode); // resolved and remembered for Api:KeyCacheDuration (30 s)
        }

        // Another instance's revocation: straight in the database, so only the notification reaches this instance.
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        Assert.Equal(RevocationOutcome.Revoked, (await new ApiKeyStore(dataSource).RevokeKeyAsync(id)).Outcome);

        // The notification arrives asynchronously: ask until refused, for a third of the time the cache would hold the key.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var status = HttpStatusCode.OK;
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50));
            using var after = await holder.GetAsync("/api/v1/nautilus/backtest/list");
            status = after.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task The_key_listing_shows_every_key_without_the_key_or_its_hash()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var (id, key) = await Issue(admin, $"zeno-{Guid.NewGuid():N}"[..20], ApiRoles.User, "zeno's laptop");
        using var response = await admin.GetAsync("/api/v1/keys");
        var text = await response.Content.ReadAsStringAsync();
        var listing = JsonDocument.Parse(text).RootElement.EnumerateArray().ToList();

        var mine = listing.Single(k => k.GetProperty("id").GetInt64() == id);
        Assert.Equal("zeno's laptop", mine.GetProperty("label").GetString());
        Assert.All(listing, k => Assert.All(k.EnumerateObject(), p => Assert.Contains(p.Name, ListedFields)));
        foreach (var secret in new[] { key, ApiFixture.AliceKey, ApiFixture.BobKey, ApiFixture.AdminKey, ApiFixture.BootstrapKey })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(ApiKeyStore.Hash(secret), text, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain(key[..6], text, StringComparison.Ordinal); // not even the prefix the table keeps
    }

    [Fact]
    public async Task Key_routes_are_403_for_users()
    {
        using var alice = fixture.Client(ApiFixture.AliceKey);
        using var list = await alice.GetAsync("/api/v1/keys");
        using var issue = await alice.PostAsJsonAsync("/api/v1/keys", new { userId = "alice", role = "admin" });
        using var revoke = await alice.DeleteAsync("/api/v1/keys/1");
        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], new[] { list.StatusCode, issue.StatusCode, revoke.StatusCode });
        Assert.Equal(ApiRoles.Admin, await RoleOf(ApiFixture.AdminKey));
    }

    [Theory]
    [InlineData("abc", "id")]
    [InlineData("0", "id")]
    [InlineData("-3", "id")]
    [InlineData("1.5", "id")]
    [InlineData("99999999999999999999", "id")]
    public async Task Revoking_a_malformed_id_is_400_naming_the_id(string id, string field)
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        using var response = await admin.DeleteAsync($"/api/v1/keys/{id}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Revoking_an_unknown_key_is_404()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        using var response = await admin.DeleteAsync($"/api/v1/keys/{long.MaxValue}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    public static TheoryData<string, string?, string?, string> BadKeyRequests() => new()
    {
        { "", "user", null, "userId" },
        { "nul\0user", "user", null, "userId" },
        { new string('u', 101), "user", null, "userId" },
        { "ursula", "root", null, "role" },
        { "ursula", "Admin", null, "role" },
        { "ursula", "user", new string('l', 201), "label" },
        { "ursula", "user", "line\nbreak", "label" },
    };

    [Theory]
    [MemberData(nameof(BadKeyRequests))]
    public async Task Issuing_a_key_with_bad_input_is_400_naming_the_field_and_issues_nothing(string userId, string? role, string? label, string field)
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var before = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/keys")).GetArrayLength();
        using var response = await admin.PostAsJsonAsync("/api/v1/keys", new { userId, role, label });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _), field);
        Assert.Equal(before, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/keys")).GetArrayLength());
    }
}
