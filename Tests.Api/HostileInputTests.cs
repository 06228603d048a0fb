using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Api.Backtests;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Backtesting.Tests.Api;

/// <summary>
/// Every route the app maps (read from its EndpointDataSource and API description, so a new route is covered without
/// a change here) against hostile input: each answer is a 4xx (never a 5xx), a 400 names the field, and nothing is
/// created (no backtest, key, user or strategy).
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class HostileInputTests(ApiFixture fixture)
{
    private static readonly string[] Tables = ["backtests", "api_users", "api_keys", "api_start_log", "custom_strategies"];

    /// <summary>A route as the app maps it, with one concrete path for it.</summary>
    private sealed record Route(string Method, string Pattern, string Path, bool ReadsBody);

    private List<Route> Routes()
    {
        var routes = new List<Route>();
        foreach (var endpoint in fixture.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var path = System.Text.RegularExpressions.Regex.Replace(pattern, "\\{([^}]*)\\}", m => m.Groups[1].Value switch
            {
                var p when p.Contains("guid", StringComparison.Ordinal) => Guid.NewGuid().ToString(),
                var p when p.StartsWith("**", StringComparison.Ordinal) || p.StartsWith('*') => "page",
                _ => "SomeName",
            });
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"];
            foreach (var method in methods.Where(m => m is not ("HEAD" or "OPTIONS")))
            {
                // What the routing's 415 rests on: a body route's accepted media types (declared, or inferred from [FromBody]).
                routes.Add(new Route(method, pattern, path, endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is not null));
            }
        }

        Assert.Contains(routes, r => r.Pattern == BacktestRoutes.Prefix + "/start" && r.ReadsBody);
        Assert.True(routes.Count >= 20, $"only {routes.Count} routes found");
        return routes;
    }

    /// <summary>Bodies that break a rule every route keeps (StrictInput), with the field each must name.</summary>
    public static readonly (string Body, string Field, string Rule)[] RootBodies =
    [
        ("""{"strategyClass":"A","strategyClass":"B"}""", "strategyClass", "duplicate"),
        ("""{"priority":"high","Priority":"low"}""", "Priority", "duplicate"),
        ("""{"userId":"al\u0000ice"}""", "userId", "nulCharacter"),
        ("""{"ids":["a","b\u0000"]}""", "ids[1]", "nulCharacter"),
        ("""{"source\u0000":"x"}""", "source\\u0000", "nulCharacter"),
        (string.Concat(Enumerable.Repeat("[", 200)) + string.Concat(Enumerable.Repeat("]", 200)), "", "depth"),
        ("""{"strategyClass":""", "$", "json"),
        ("""{"a":1}{"b":2}""", "$", "json"),
        ("""{'a':1}""", "$", "json"),
    ];

    [Fact]
    public async Task Every_route_refuses_a_json_body_that_breaks_a_root_rule_with_a_400_naming_the_field_and_creates_nothing()
    {
        using var client = await AdminAsync();
        var before = await CountsAsync();
        foreach (var route in Routes())
        {
            foreach (var (body, field, rule) in RootBodies)
            {
                using var response = await SendAsync(client, route.Method, route.Path, body, "application/json");
                var problem = await AssertRefusedAsync(response, $"{route.Method} {route.Path} with {body[..Math.Min(body.Length, 40)]}");
                Assert.Equal(400, (int)response.StatusCode);
                var named = problem.GetProperty("rules").EnumerateArray().Single();
                Assert.Equal(rule, named.GetProperty("rule").GetString());
                if (field.Length > 0)
                {
                    Assert.Equal(field, named.GetProperty("field").GetString());
                }
            }
        }

        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Every_query_and_route_value_with_a_control_character_is_a_400_naming_the_parameter()
    {
        using var client = await AdminAsync();
        var before = await CountsAsync();
        foreach (var route in Routes())
        {
            foreach (var control in new[] { "%00", "%01", "%1B", "%7F", "%C2%85" })
            {
                foreach (var name in new[] { "page", "sort", "strategy", "format", "q" })
                {
                    var separator = route.Path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
                    using var response = await SendAsync(client, route.Method, $"{route.Path}{separator}{name}=a{control}b", null, null);
                    var problem = await AssertRefusedAsync(response, $"{route.Method} {route.Path} ?{name}=a{control}b");
                    Assert.Equal(400, (int)response.StatusCode);
                    Assert.True(problem.GetProperty("errors").TryGetProperty(name, out _), $"{route.Method} {route.Path}: {problem}");
                }
            }

            // A name-like route value (a strategy's name) with a control character.
            if (route.Path.Contains("SomeName", StringComparison.Ordinal))
            {
                foreach (var control in new[] { "%01", "%1F", "%7F" })
                {
                    using var response = await SendAsync(client, route.Method, route.Path.Replace("SomeName", $"Some{control}Name", StringComparison.Ordinal), null, null);
                    var problem = await AssertRefusedAsync(response, $"{route.Method} {route.Path} with {control}");
                    Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route.Method} {route.Path} with {control}: {problem}");
                    Assert.Equal("controlCharacter", problem.GetProperty("rules")[0].GetProperty("rule").GetString());
                }
            }
        }

        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Every_route_that_reads_a_body_answers_a_non_json_media_type_with_415_naming_the_content_type()
    {
        using var client = await AdminAsync();
        var bodyRoutes = Routes().Where(r => r.ReadsBody).ToList();
        Assert.True(bodyRoutes.Count >= 5, string.Join(", ", bodyRoutes));
        foreach (var route in bodyRoutes)
        {
            foreach (var mediaType in new[] { "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png" })
            {
                using var response = await SendAsync(client, route.Method, route.Path, """{"strategyClass":"MovingAverageCross"}""", mediaType);
                var problem = await AssertRefusedAsync(response, $"{route.Method} {route.Path} as {mediaType}");
                Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
                Assert.Equal("Content-Type", problem.GetProperty("field").GetString());
            }
        }
    }

    /// <summary>
    /// Each body route's own documented request example, made hostile one leaf at a time: every string with control
    /// characters, a NUL or an enum word that is a number or joined names; every date string out of range or with an
    /// offset; every number huge, negative, zero or not a number. Also bodies of the wrong shape.
    /// </summary>
    [Fact]
    public async Task Every_field_of_every_body_route_refuses_hostile_values_with_a_4xx_naming_a_field_and_creates_nothing()
    {
        using var client = await AdminAsync();
        var before = await CountsAsync();
        var examples = fixture.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Endpoint: e, Example: e.Metadata.OfType<ApiExample>().FirstOrDefault(x => x.IsRequest)))
            .Where(x => x.Example is not null).ToList();
        Assert.True(examples.Count >= 4, $"{examples.Count} routes document a request example");
        var routes = Routes();
        var tried = 0;
        foreach (var (endpoint, example) in examples)
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            foreach (var route in routes.Where(r => r.Pattern == pattern && r.ReadsBody))
            {
                foreach (var body in Hostile(JsonNode.Parse(example!.Json)!).Concat(["", "[]", "[1,2]", "\"x\"", "42", "null", "true", "{}"]))
                {
                    tried++;
                    using var response = await SendAsync(client, route.Method, route.Path, body, "application/json");
                    var problem = await AssertRefusedAsync(response, $"{route.Method} {route.Path} with {(body.Length <= 600 ? body : body[..200] + " ... " + body[^300..])}");
                    if (response.StatusCode == HttpStatusCode.BadRequest)
                    {
                        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.EnumerateObject().Any(),
                            $"{route.Method} {route.Path} with {body}: a 400 names no field: {problem}");
                    }
                }
            }
        }

        Assert.True(tried > 100, $"{tried} hostile bodies tried");
        Assert.Equal(before, await CountsAsync());
    }

    /// <summary>Query parameters of every described route, by their type: numbers and dates that cannot bind or break a range.</summary>
    [Fact]
    public async Task Every_typed_query_parameter_refuses_values_it_cannot_hold_with_a_400_naming_it()
    {
        using var client = await AdminAsync();
        var descriptions = fixture.Services.GetRequiredService<IApiDescriptionGroupCollectionProvider>().ApiDescriptionGroups.Items
            .SelectMany(g => g.Items).ToList();
        var tried = 0;
        foreach (var description in descriptions)
        {
            var path = "/" + System.Text.RegularExpressions.Regex.Replace(description.RelativePath!, "\\{[^}]*\\}", Guid.NewGuid().ToString());
            foreach (var parameter in description.ParameterDescriptions.Where(p => p.Source == BindingSource.Query))
            {
                var type = Nullable.GetUnderlyingType(parameter.Type) ?? parameter.Type;
                string[] values = type == typeof(int) ? ["abc", "2147483648", "-2147483649", "99999999999999999999", "1.5", "1e3", "0", "-1"]
                    : type == typeof(DateTime) ? ["9999-99-99", "yesterday", "2019-13-01", "1e9"]
                    : type == typeof(double) ? ["abc", "1e999"]
                    : [];
                foreach (var value in values)
                {
                    tried++;
                    using var response = await SendAsync(client, description.HttpMethod!, $"{path}?{parameter.Name}={Uri.EscapeDataString(value)}", null, null);
                    var problem = await AssertRefusedAsync(response, $"{description.HttpMethod} {path}?{parameter.Name}={value}");
                    Assert.Equal(400, (int)response.StatusCode);
                    Assert.True(problem.GetProperty("errors").TryGetProperty(parameter.Name, out _), $"{path}?{parameter.Name}={value}: {problem}");
                }

                // Values that may be legal or not: never a 5xx.
                foreach (var value in new[] { "99", "low,high", "3", "", " ", "9999-12-31", "0001-01-01T00:00:00+14:00", "0001-01-01", new string('x', 4000) })
                {
                    using var response = await SendAsync(client, description.HttpMethod!, $"{path}?{parameter.Name}={Uri.EscapeDataString(value)}", null, null);
                    Assert.True((int)response.StatusCode < 500, $"{path}?{parameter.Name}={value}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }

        Assert.True(tried >= 30, $"{tried} typed query values tried");
    }

    [Theory]
    [InlineData("99")]
    [InlineData("5")]
    [InlineData("-1")]
    [InlineData("createdNewest,status")]
    public async Task A_list_sort_that_is_not_a_documented_word_is_a_400_naming_sort(string sort)
    {
        using var client = await AdminAsync();
        using var response = await client.GetAsync($"{BacktestRoutes.Prefix}/list?sort={Uri.EscapeDataString(sort)}");
        var problem = await AssertRefusedAsync(response, sort);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("createdNewest", problem.GetProperty("errors").GetProperty("sort")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"3\"")]
    [InlineData("3")]
    [InlineData("\"low,high\"")]
    [InlineData("\"1\"")]
    [InlineData("\"urgent \"")]
    [InlineData("true")]
    public async Task A_priority_that_is_not_one_of_the_four_words_is_a_400_naming_priority_at_start_and_in_the_queue(string priority)
    {
        var (client, _, _) = await fixture.NewUserAsync("prio");
        using (client)
        {
            var config = JsonSerializer.SerializeToNode(ApiFixture.Config())!;
            config["priority"] = JsonNode.Parse(priority);
            using var start = await client.PostAsync($"{BacktestRoutes.Prefix}/start", new StringContent(config.ToJsonString(), Encoding.UTF8, "application/json"));
            var problem = await AssertRefusedAsync(start, priority);
            Assert.True(problem.GetProperty("errors").TryGetProperty("priority", out _), problem.ToString());

            using var patch = await client.PatchAsync($"{BacktestRoutes.Prefix}/queue/{Guid.NewGuid()}",
                new StringContent($"{{\"priority\":{priority}}}", Encoding.UTF8, "application/json"));
            var patched = await AssertRefusedAsync(patch, priority);
            Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
            Assert.True(patched.GetProperty("errors").TryGetProperty("priority", out _), patched.ToString());
            Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>($"{BacktestRoutes.Prefix}/list")).GetProperty("totalCount").GetInt64());
        }
    }

    [Theory]
    [InlineData("startDate", "9999-12-31", "range")]
    [InlineData("endDate", "9999-12-31", "range")]
    [InlineData("startDate", "0001-01-01", "range")]
    [InlineData("startDate", "2019-01-01T00:00:00+14:00", "offset")]
    [InlineData("endDate", "2020-12-31T00:00:00-10:00", "offset")]
    public async Task A_start_with_a_date_out_of_range_or_with_an_offset_is_a_400_naming_the_date_and_starts_nothing(string field, string value, string rule)
    {
        var (client, _, _) = await fixture.NewUserAsync("dates");
        using (client)
        {
            using var response = await client.PostAsJsonAsync($"{BacktestRoutes.Prefix}/start", ApiFixture.Config(c => c[field] = value));
            var problem = await AssertRefusedAsync(response, value);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(problem.GetProperty("rules").EnumerateArray(), r => r.GetProperty("field").GetString() == field && r.GetProperty("rule").GetString() == rule);
            Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>($"{BacktestRoutes.Prefix}/list")).GetProperty("totalCount").GetInt64());
        }
    }

    [Theory]
    [InlineData("""{"ids":["not-a-guid","8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a"]}""", "ids[0]")]
    [InlineData("""{"ids":["3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a"],"riskFreeRate":"NaN"}""", "riskFreeRate")]
    [InlineData("""{"ids":["3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","8d0b7c55-1e22-4a8f-b6c3-5f4e3d2c1b0a"],"riskFreeRate":1e999}""", "riskFreeRate")]
    [InlineData("""{"ids":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11"}""", "ids")]
    public async Task A_compare_body_that_does_not_bind_names_the_field(string body, string field)
    {
        using var client = await AdminAsync();
        using var response = await client.PostAsync($"{BacktestRoutes.Prefix}/compare", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await AssertRefusedAsync(response, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Theory]
    [InlineData("al\u0001ice")]
    [InlineData("al\u007Fice")]
    [InlineData("alice\n")]
    [InlineData("")]
    public async Task A_key_for_a_user_id_with_a_control_character_or_none_is_a_400_naming_userId_and_creates_no_user(string userId)
    {
        using var client = await AdminAsync();
        var before = await CountsAsync();
        using var response = await client.PostAsJsonAsync("/api/v1/keys", new { userId, role = "user" });
        var problem = await AssertRefusedAsync(response, userId);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("userId", out _), problem.ToString());
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task An_unknown_api_path_is_404_and_a_wrong_method_405_never_the_dashboard_page()
    {
        using var client = await AdminAsync();
        using var missing = await client.GetAsync("/api/v1/no-such-route");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no route", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var wrongMethod = await client.PutAsync($"{BacktestRoutes.Prefix}/start", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType!.MediaType);
    }

    // ---- helpers ----

    /// <summary>The example with one leaf made hostile at a time, as JSON texts.</summary>
    private static IEnumerable<string> Hostile(JsonNode example)
    {
        var leaves = new List<(JsonNode Parent, object Key, JsonValueKind Kind, string Name)>();
        void Walk(JsonNode node, string name)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, child) in o.ToList())
                    {
                        if (child is null) { continue; }
                        if (child is JsonValue) { leaves.Add((o, key, child.GetValueKind(), key)); }
                        Walk(child, key);
                    }

                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (a[i] is JsonValue) { leaves.Add((a, i, a[i]!.GetValueKind(), name)); }
                        if (a[i] is { } item) { Walk(item, name); }
                    }

                    break;
            }
        }

        Walk(example, "$");
        foreach (var (parent, key, kind, name) in leaves)
        {
            var replacements = new List<string>();
            if (kind == JsonValueKind.String)
            {
                var original = (key is string k ? parent[k] : parent[(int)key])!.GetValue<string>();
                // Only values no field accepts: an optional field may legitimately be empty, null or any word.
                replacements.AddRange(["\u0001" + original, original + "\u0000", original + "\u001b[31m", "\u007f", new string('x', 100_001)]);
                if (name.EndsWith("Date", StringComparison.Ordinal) || name.EndsWith("date", StringComparison.Ordinal))
                {
                    replacements.AddRange(["9999-12-31", "0001-01-01", "2019-01-01T00:00:00+14:00", "2019-02-30"]);
                }
            }

            var numbers = kind == JsonValueKind.Number ? new[] { "1e308", "-1e308", "1e999", "-1", "0", "99999999999999999999999", "\"NaN\"", "\"Infinity\"" } : [];
            // A boolean's other value is a legal choice, not a hostile one: a boolean gets what no boolean field accepts.
            string[] shapes = kind is JsonValueKind.True or JsonValueKind.False ? ["{}", "[]", "\"true\"", "1", "null"] : ["{}", "[]", "true"];
            foreach (var text in replacements.Select(r => JsonSerializer.Serialize(r)).Concat(numbers).Concat(shapes))
            {
                var copy = example.DeepClone();
                var target = Locate(copy, example, parent);
                var value = JsonNode.Parse(text);
                if (key is string name2) { target.AsObject()[name2] = value; } else { target.AsArray()[(int)key] = value; }
                yield return copy.ToJsonString();
            }
        }
    }

    /// <summary>The node in <paramref name="copy"/> at the place <paramref name="node"/> has in <paramref name="original"/>.</summary>
    private static JsonNode Locate(JsonNode copy, JsonNode original, JsonNode node)
    {
        var steps = new Stack<object>();
        for (var current = node; current != original; current = current.Parent!)
        {
            steps.Push(current.Parent is JsonArray array ? array.IndexOf(current) : current.GetPropertyName());
        }

        var at = copy;
        while (steps.Count > 0)
        {
            var step = steps.Pop();
            at = step is string property ? at[property]! : at[(int)step]!;
        }

        return at;
    }

    private async Task<HttpClient> AdminAsync()
    {
        var key = "key-" + Guid.NewGuid().ToString("N");
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        await new ApiKeyStore(dataSource).AddKeyAsync($"fuzz-{Guid.NewGuid():N}"[..20], ApiRoles.Admin, key, null);
        return fixture.Client(key);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, string? body, string? mediaType)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = mediaType is null ? null : System.Net.Http.Headers.MediaTypeHeaderValue.Parse(mediaType);
        }

        return await client.SendAsync(request);
    }

    /// <summary>A 4xx with a ProblemDetails body; returns the body.</summary>
    private static async Task<JsonElement> AssertRefusedAsync(HttpResponseMessage response, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{what}: {(int)response.StatusCode} {text[..Math.Min(text.Length, 500)]}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{what}: {(int)response.StatusCode} as {response.Content.Headers.ContentType}: {text[..Math.Min(text.Length, 300)]}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<string> CountsAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        var counts = new List<string>();
        foreach (var table in Tables)
        {
            await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {table}");
            counts.Add($"{table}={await command.ExecuteScalarAsync()}");
        }

        return string.Join(", ", counts);
    }
}
