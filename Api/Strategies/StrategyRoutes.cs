using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backtesting.Api.Auth;
using Backtesting.Api.Backtests;
using Backtesting.Api.Strategies.Contracts;
using Backtesting.Compiler;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backtesting.Api.Strategies;

/// <summary>
/// <c>/api/v1/strategies</c>: the templates and the caller's custom strategies, and uploads. Compiling happens in the
/// cluster (<see cref="IStrategyCompileGrain"/>, in the runner's sandbox), never in the API: it runs the upload's code.
/// </summary>
public static class StrategyRoutes
{
    public const string Prefix = "/api/v1/strategies";

    public static void MapStrategyRoutes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix).WithTags("Strategies").RequireAuthorization();

        group.MapGet("", List)
            .WithSummary("Strategy templates and your own custom strategies, with their parameter schemas")
            .WithDescription("Each entry's `kind` is `template` or `custom`; custom entries carry their latest `version` and `sourceHash`. " +
                             "Other users' strategies are never listed.")
            .WithExample(200, """[{"name":"MovingAverageCross","description":"Trend following: long when the fast moving average crosses above the slow one.","maxInstruments":50,"parameters":[{"name":"fastPeriod","type":"integer","required":false,"default":10,"min":1,"max":500,"description":"Fast moving average period","allowed":null}],"kind":"template","version":null,"sourceHash":null,"updatedAt":null},{"name":"SmaCross","description":"Trend following: long when the fast moving average crosses above the slow one.","maxInstruments":50,"parameters":[{"name":"fastPeriod","type":"integer","required":true,"default":10,"min":1,"max":500,"description":"Bars in the fast moving average","allowed":null}],"kind":"custom","version":2,"sourceHash":"9c1e…","updatedAt":"2025-01-02T10:00:00Z"}]""")
            .WithStandardErrors(401);

        group.MapGet("/{name}", Get)
            .WithSummary("One of your custom strategies: its versions, and the latest version's schema and source")
            .WithDescription("A template answers with its schema (no versions, no source). Another user's strategy answers 404, like one that does not exist.")
            .WithExample(200, """{"name":"SmaCross","kind":"custom","latestVersion":2,"schema":{"name":"SmaCross","description":"…","maxInstruments":50,"parameters":[],"kind":"custom","version":2,"sourceHash":"9c1e…","updatedAt":"2025-01-02T10:00:00Z"},"source":"using Backtesting.Engine.Strategies;\n…","versions":[{"version":1,"sourceHash":"41aa…","createdAt":"2025-01-01T09:00:00Z"},{"version":2,"sourceHash":"9c1e…","createdAt":"2025-01-02T10:00:00Z"}]}""")
            .WithStandardErrors(401)
            .WithProblemExamples(404);

        group.MapPost("", Upload)
            .WithSummary("Upload a custom strategy (C# source): compiled in the sandbox, stored as your next version")
            .WithDescription($"Body: `{{\"source\": \"…\"}}` (application/json) or the source itself (text/plain), at most {StrategyCompiler.MaxSourceBytes:N0} " +
                             "bytes of UTF-8. One public class deriving from Strategy; parameters are [Parameter] properties (docs/custom-strategies.md). " +
                             "It is compiled with Roslyn in a worker container (no network, read-only, time and memory limits) after an allow-list check. " +
                             "201 with the version and its parameter schema; the same source as the latest version returns that version (created false). " +
                             "422 with `diagnostics` (id, severity, line, column, message) when the source does not compile or uses what the sandbox forbids, " +
                             "or when compiling timed out; 409 when the cluster's runner does not run custom strategies (they need the Docker runner); " +
                             "413 over the size limit; 429 with Retry-After when you already have as many compiles running and waiting as allowed (docs/api.md).")
            .Accepts<UploadRequest>("application/json", "text/plain")
            .WithRequestExample("""{"source":"using Backtesting.Engine.Data;\nusing Backtesting.Engine.Strategies;\n\npublic sealed class BuyAndHold : Strategy\n{\n    [Parameter(\"Weight of each instrument\", Min = 0, Max = 1)]\n    public double Weight { get; set; } = 1;\n\n    public override void OnBar(in MarketData bar)\n    {\n        if (Position(bar.Instrument).Quantity == 0)\n        {\n            TargetWeight(bar.Instrument, Weight / Instruments.Count);\n        }\n    }\n}\n"}""")
            .WithExample(201, """{"name":"BuyAndHold","version":1,"sourceHash":"5d2f…","created":true,"createdAt":"2025-01-02T10:00:00Z","schema":{"name":"BuyAndHold","description":"Custom strategy","maxInstruments":50,"parameters":[{"name":"weight","type":"number","required":false,"default":1,"min":0,"max":1,"description":"Weight of each instrument","allowed":null}],"kind":"custom","version":1,"sourceHash":"5d2f…","updatedAt":"2025-01-02T10:00:00Z"},"warnings":[]}""")
            .WithExample(422, """{"title":"The strategy was rejected","status":422,"detail":"1 error(s): line 9, column 22: BT0100 System.IO.File is not allowed in a strategy (file system access)","sourceHash":"77ab…","diagnostics":[{"id":"BT0100","severity":"error","line":9,"column":22,"endLine":9,"endColumn":60,"message":"System.IO.File is not allowed in a strategy (file system access)"}]}""")
            .WithExample(409, """{"title":"Custom strategies are not available","status":409,"detail":"the process runner does not compile or run custom strategies: use the docker runner, or for development only set Backtesting:AllowCustomStrategiesInProcessRunner to true"}""")
            .WithExample(413, """{"title":"Source too large","status":413,"detail":"source is 120,000 bytes; at most 100,000 bytes of UTF-8 are accepted","errors":{"source":["source is 120,000 bytes; at most 100,000 bytes of UTF-8 are accepted"]},"rules":[{"field":"source","rule":"maxBytes","message":"…"}]}""")
            .WithStandardErrors(401)
            .WithProblemExamples(400, 429);

        group.MapDelete("/{name}", Delete)
            .WithSummary("Delete one of your custom strategies")
            .WithDescription("A strategy no backtest ran is removed with every version (`removed`). One that backtests ran is retired: it is no " +
                             "longer listed or startable, but the versions those backtests ran stay, so their status and results still name them. " +
                             "Uploading the same class name again brings it back with the next version number. Templates cannot be deleted (409); " +
                             "another user's strategy answers 404, like one that does not exist.")
            .WithExample(200, """{"name":"SmaCross","outcome":"retired"}""")
            .WithStandardErrors(401)
            .WithProblemExamples(404);
    }

    public static async Task<Ok<List<StrategyInfo>>> List(HttpContext context, StrategyCatalog templates, IStrategyStore store)
    {
        var user = context.User.ApiUser();
        var list = templates.All.OrderBy(s => s.Name, StringComparer.Ordinal)
            .Select(s => new StrategyInfo(s.Name, s.Description, s.MaxInstruments, s.Parameters)).ToList();
        foreach (var own in await store.ListAsync(user.UserId, context.RequestAborted))
        {
            list.Add(Describe(own.SchemaJson, own.LatestVersion, own.ContentHash, own.UpdatedAt));
        }

        return TypedResults.Ok(list);
    }

    public static async Task<Results<Ok<StrategyDetailResponse>, NotFoundProblem>> Get(string name, HttpContext context, StrategyCatalog templates, IStrategyStore store)
    {
        if (templates.TryGet(name, out var template))
        {
            return TypedResults.Ok(new StrategyDetailResponse(template.Name, StrategyKinds.Template, 0,
                new StrategyInfo(template.Name, template.Description, template.MaxInstruments, template.Parameters), "", []));
        }

        var owner = context.User.ApiUser().UserId;
        var latest = await store.GetByNameAsync(owner, name, null, context.RequestAborted);
        if (latest is null)
        {
            return NotFound(name);
        }

        var versions = new List<StrategyVersionSummary>();
        for (var v = 1; v <= latest.Version; v++)
        {
            if (await store.GetByNameAsync(owner, name, v, context.RequestAborted) is { } version)
            {
                versions.Add(new StrategyVersionSummary(version.Version, version.ContentHash, version.CreatedAt));
            }
        }

        return TypedResults.Ok(new StrategyDetailResponse(latest.Name, StrategyKinds.Custom, latest.Version,
            Describe(latest.SchemaJson, latest.Version, latest.ContentHash, latest.CreatedAt), latest.Source, versions));
    }

    public static async Task<Results<Ok<StrategyDeletedResponse>, ConflictProblem, NotFoundProblem>> Delete(string name, HttpContext context, StrategyCatalog templates, IStrategyStore store)
    {
        if (templates.TryGet(name, out _))
        {
            return new ConflictProblem(Results.Problem(statusCode: 409, title: "Templates cannot be deleted", detail: $"'{name}' is a built-in strategy template"));
        }

        return await store.DeleteAsync(context.User.ApiUser().UserId, name, context.RequestAborted) switch
        {
            StrategyDeletion.Removed => TypedResults.Ok(new StrategyDeletedResponse(name, "removed")),
            StrategyDeletion.Retired => TypedResults.Ok(new StrategyDeletedResponse(name, "retired")),
            _ => NotFound(name),
        };
    }

    public static async Task<Results<Created<StrategyVersionResponse>, InvalidProblem, TooLargeProblem, UnprocessableProblem, TooManyRequestsProblem,
        Results<ConflictProblem, UnavailableProblem>>> Upload(HttpContext context, IClusterClient client)
    {
        var user = context.User.ApiUser();
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        string? source;
        if (context.Request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true)
        {
            source = body;
        }
        else
        {
            try
            {
                source = JsonNode.Parse(body) is JsonObject json && json["source"] is JsonValue value && value.GetValueKind() == JsonValueKind.String
                    ? value.GetValue<string>()
                    : null;
            }
            catch (JsonException e)
            {
                return Problems.Invalid("$", "json", "the body must be a JSON object {\"source\": \"...\"} or text/plain source: " + e.Message);
            }

            if (source is null)
            {
                return Problems.Invalid("source", "required", "source is required: a JSON string with the strategy's C# code");
            }
        }

        if (string.IsNullOrWhiteSpace(source))
        {
            return Problems.Invalid("source", "required", "source is empty");
        }

        // A JSON body was checked by StrictInput; a text/plain one is checked here (PostgreSQL cannot store U+0000).
        if (source.Contains('\0', StringComparison.Ordinal))
        {
            return Problems.Invalid("source", "nulCharacter", "source contains the NUL character (U+0000)");
        }

        var bytes = Encoding.UTF8.GetByteCount(StrategyCompiler.Normalize(source));
        if (bytes > StrategyCompiler.MaxSourceBytes)
        {
            var message = $"source is {bytes:N0} bytes; at most {StrategyCompiler.MaxSourceBytes:N0} bytes of UTF-8 are accepted";
            return new TooLargeProblem(Results.ValidationProblem(new Dictionary<string, string[]> { ["source"] = [message] }, detail: message,
                title: "Source too large", statusCode: 413,
                extensions: new Dictionary<string, object?> { ["rules"] = new[] { new ValidationError("source", "maxBytes", message) } }));
        }

        var result = await client.GetGrain<IStrategyCompileGrain>(0).Upload(user.UserId, source);
        switch (result.Outcome)
        {
            case StrategyUploadOutcome.Stored:
                var stored = result.Version!;
                return TypedResults.Created($"{Prefix}/{stored.Name}", new StrategyVersionResponse(stored.Name, stored.Version, stored.SourceHash,
                    stored.Created, stored.CreatedAt, Describe(stored.SchemaJson, stored.Version, stored.SourceHash, stored.CreatedAt),
                    result.Diagnostics.Where(d => d.Severity != CompileDiagnostic.Error).ToList()));
            case StrategyUploadOutcome.Rejected or StrategyUploadOutcome.TimedOut:
                var errors = result.Diagnostics.Where(d => d.Severity == CompileDiagnostic.Error).ToList();
                var detail = errors.Count > 0
                    ? $"{errors.Count} error(s): " + string.Join("; ", errors.Take(5).Select(d => $"line {d.Line}, column {d.Column}: {d.Id} {d.Message}"))
                    : result.Detail;
                return new UnprocessableProblem(Results.Problem(statusCode: 422,
                    title: result.Outcome == StrategyUploadOutcome.TimedOut ? "Compiling timed out" : "The strategy was rejected",
                    detail: detail,
                    extensions: new Dictionary<string, object?> { ["sourceHash"] = result.SourceHash, ["diagnostics"] = result.Diagnostics }));
            case StrategyUploadOutcome.Busy:
                context.Response.Headers.RetryAfter = (result.RetryAfterSeconds ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return new TooManyRequestsProblem(Results.Problem(statusCode: 429, title: "Too many requests", detail: result.Detail));
            case StrategyUploadOutcome.Refused:
                return ClusterRefused(new ConflictProblem(Results.Problem(statusCode: 409, title: "Custom strategies are not available",
                    detail: result.Detail)));
            default:
                return ClusterRefused(new UnavailableProblem(Results.Problem(statusCode: 503, title: "Compiling is unavailable", detail: result.Detail)));
        }
    }

    private static NotFoundProblem NotFound(string name) =>
        new(Results.Problem(statusCode: 404, title: "Not found", detail: $"strategy '{name}' not found"));

    /// <summary>The cluster cannot compile the upload (Results&lt;...&gt; holds six answers: these two share the last place).</summary>
    private static Results<ConflictProblem, UnavailableProblem> ClusterRefused(Results<ConflictProblem, UnavailableProblem> answer) => answer;

    /// <summary>A custom strategy's stored schema, in the same shape as a template's.</summary>
    private static StrategyInfo Describe(string schemaJson, int version, string sourceHash, DateTime updatedAt)
    {
        var schema = JsonSerializer.Deserialize<StrategySchema>(schemaJson, JsonDefaults.Options)
            ?? throw new InvalidOperationException("a stored strategy has no schema");
        return new StrategyInfo(schema.Name, schema.Description, schema.MaxInstruments, schema.Parameters, StrategyKinds.Custom, version,
            sourceHash, updatedAt);
    }
}
