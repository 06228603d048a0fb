using System.Net;
using System.Text.RegularExpressions;
using Backtesting.Api.Backtests;

namespace Backtesting.Tests.Api;

/// <summary>The browser-facing headers: on the dashboard, Swagger UI, API answers and errors alike.</summary>
[Collection(ApiCollection.Name)]
public sealed partial class SecurityHeaderTests(ApiFixture fixture)
{
    public static TheoryData<string, HttpStatusCode> Pages => new()
    {
        { "/", HttpStatusCode.OK },                                            // the dashboard
        { "/runs/some-page", HttpStatusCode.OK },                              // a dashboard page path (index.html)
        { "/assets/index.js", HttpStatusCode.OK },                             // a dashboard asset
        { "/swagger/index.html", HttpStatusCode.OK },
        { "/swagger/v1/swagger.json", HttpStatusCode.OK },
        { "/health/live", HttpStatusCode.OK },
        { BacktestRoutes.Prefix + "/list", HttpStatusCode.Unauthorized },       // an API answer (no key)
        { "/api/v1/no-such-route", HttpStatusCode.NotFound },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Every_response_forbids_framing_sniffing_referrers_and_scripts_from_elsewhere(string path, HttpStatusCode status)
    {
        using var anonymous = fixture.Client(null);
        using var response = await anonymous.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        var policy = Header(response, "Content-Security-Policy");
        var directives = policy.Split(';', StringSplitOptions.TrimEntries).ToDictionary(d => d.Split(' ')[0], d => d[(d.IndexOf(' ') + 1)..]);
        Assert.Equal("'none'", directives["frame-ancestors"]);
        Assert.Equal("'self'", directives["script-src"]);     // no inline script, no eval, no other origin
        Assert.Equal("'self'", directives["default-src"]);
        Assert.Equal("'self'", directives["connect-src"]);    // fetch, SignalR and WebSockets to this origin only
        Assert.Equal("'none'", directives["object-src"]);
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
    }

    [Fact]
    public async Task An_answer_written_after_a_refused_input_carries_the_headers_too()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        using var response = await admin.GetAsync(BacktestRoutes.Prefix + "/list?page=abc");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Contains("frame-ancestors 'none'", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
    }

    /// <summary>
    /// The policy allows scripts from this origin only, so the pages served must load every script from a file:
    /// Swagger UI as served, and the dashboard's source page (Vite keeps its one module script a file when building).
    /// </summary>
    [Fact]
    public async Task Swagger_ui_and_the_dashboard_page_have_no_inline_script_or_event_handler_the_policy_would_block()
    {
        using var anonymous = fixture.Client(null);
        var swagger = await anonymous.GetStringAsync("/swagger/index.html");
        var dashboard = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepositoryRoot, "Web", "index.html"));
        foreach (var (name, html) in new[] { ("swagger", swagger), ("dashboard", dashboard) })
        {
            var scripts = ScriptTag().Matches(html);
            Assert.NotEmpty(scripts);
            Assert.All(scripts, m => Assert.Contains("src=", m.Groups["attributes"].Value, StringComparison.Ordinal));
            Assert.All(scripts, m => Assert.True(string.IsNullOrWhiteSpace(m.Groups["body"].Value), $"{name}: inline script {m.Value}"));
            Assert.DoesNotMatch(InlineHandler(), html);
        }

        // Swagger UI's own files load from this origin.
        foreach (var file in ScriptTag().Matches(swagger).Select(m => SourceOf().Match(m.Groups["attributes"].Value).Groups[1].Value))
        {
            using var script = await anonymous.GetAsync(new Uri(new Uri(fixture.BaseAddress, "/swagger/"), file));
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : throw new Xunit.Sdk.XunitException($"{name} is missing on {response.RequestMessage?.RequestUri}");

    [GeneratedRegex("<script(?<attributes>[^>]*)>(?<body>.*?)</script>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("src=\"([^\"]+)\"")]
    private static partial Regex SourceOf();

    [GeneratedRegex("\\son[a-z]+\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandler();
}
