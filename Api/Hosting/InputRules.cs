using System.Text.RegularExpressions;
using Backtesting.Api.Backtests;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Strategies;
using Microsoft.AspNetCore.Diagnostics;

namespace Backtesting.Api.Hosting;

/// <summary>
/// The API's one gate for request input, before any route sees it and whatever the route: query and route values hold
/// no control characters, and a JSON body keeps <see cref="StrictJson"/>'s rules (well-formed, no property twice, no
/// U+0000, bounded depth). Each break is a 400 ProblemDetails naming the field and the rule; nothing runs.
/// Routes then bind and validate their own fields; what the framework's binding refuses is named by
/// <see cref="BindingFailureHandler"/>.
/// </summary>
internal sealed class StrictInput(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is null)
        {
            await next(context);
            return;
        }

        var request = context.Request;
        if ((Check(request) ?? await CheckBodyAsync(request, context.RequestAborted)) is { } error)
        {
            await Problems.Invalid([error]).ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    private static ValidationError? Check(HttpRequest request)
    {
        foreach (var (name, values) in request.Query)
        {
            if (ConfigValidator.ControlCharacters(name, "query") is { } badName)
            {
                return badName;
            }

            foreach (var value in values)
            {
                if (value is not null && ConfigValidator.ControlCharacters(value, name) is { } bad)
                {
                    return bad;
                }
            }
        }

        foreach (var (name, value) in request.RouteValues)
        {
            if (value is string text && ConfigValidator.ControlCharacters(text, name) is { } bad)
            {
                return bad;
            }
        }

        return null;
    }

    /// <summary>A JSON body is read once here (Kestrel's size limit holds) and rewound for the route.</summary>
    private static async Task<ValidationError?> CheckBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return null;
        }

        request.EnableBuffering();
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        request.Body.Position = 0;
        return buffer.Length == 0 ? null : StrictJson.Check(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }
}

/// <summary>
/// What the framework refuses while binding a route's parameters (a query value that is not a number, a body that does
/// not fit the route's type, a missing body, a body that is not JSON) becomes a ProblemDetails naming the parameter or
/// JSON path and the rule, instead of a bare 400 (or, under ThrowOnBadRequest, a 500).
/// </summary>
internal sealed partial class BindingFailureHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            context.Response.StatusCode = bad.StatusCode;
            await UnsupportedMediaType(context.Request).ExecuteAsync(context);
            return true;
        }

        if (bad.StatusCode != StatusCodes.Status400BadRequest)
        {
            return false; // 413 and the like keep their status and the default ProblemDetails (ApiApp describes 413)
        }

        context.Response.StatusCode = bad.StatusCode;
        await Problems.Invalid([Describe(bad)]).ExecuteAsync(context);
        return true;
    }

    /// <summary>415: the body's media type is not one the route reads.</summary>
    public static IResult UnsupportedMediaType(HttpRequest request) =>
        Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported Media Type",
            detail: UnsupportedMediaTypeDetail(request),
            extensions: new Dictionary<string, object?> { ["field"] = "Content-Type", ["rule"] = "mediaType" });

    public static string UnsupportedMediaTypeDetail(HttpRequest request) =>
        $"Content-Type '{request.ContentType}' is not accepted on {request.Method} {request.Path}: send the body as application/json";

    internal static ValidationError Describe(BadHttpRequestException bad)
    {
        if (bad.InnerException is System.Text.Json.JsonException json)
        {
            var field = StrictJson.Field(json.Path);
            return new ValidationError(field, "json", $"{(field == "$" ? "the body" : field)}: {StrictJson.Describe(json)}");
        }

        var match = ParameterPattern().Match(bad.Message);
        if (!match.Success)
        {
            return new ValidationError("$", "request", bad.Message);
        }

        // A parameter bound from a record ([AsParameters]) is named by its property: the field is its JSON (camelCase) name.
        var (type, name) = (match.Groups["type"].Value, System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(match.Groups["name"].Value));
        if (bad.Message.StartsWith("Required", StringComparison.Ordinal) || bad.Message.StartsWith("Implicit body", StringComparison.Ordinal))
        {
            return type.Contains("Request", StringComparison.Ordinal) || bad.Message.Contains("body", StringComparison.Ordinal)
                ? new ValidationError("$", "required", "a JSON body is required")
                : new ValidationError(name, "required", $"{name} is required");
        }

        var value = match.Groups["value"].Success ? $" ('{match.Groups["value"].Value}' given)" : "";
        return new ValidationError(name, "type", $"{name} must be {Expected(type)}{value}");
    }

    private static string Expected(string type) => type.TrimEnd('?') switch
    {
        "int" or "Int32" or "long" or "Int64" => "a whole number",
        "double" or "Double" or "decimal" => "a number",
        "bool" or "Boolean" => "true or false",
        "Guid" => "a GUID",
        "DateTime" or "DateTimeOffset" => "an ISO-8601 date or date-time",
        "DateOnly" => "a date (YYYY-MM-DD)",
        var other => $"a valid {other}",
    };

    // The framework's binding messages: Failed to bind parameter "int? page" from "abc". / Required parameter "T x" was not provided ...
    [GeneratedRegex("parameter \"(?<type>[^\"]+?) (?<name>[^\" ]+)\"(?: from \"(?<value>[^\"]*)\")?")]
    private static partial Regex ParameterPattern();
}

/// <summary>The detail of the routing's own refusals (no route, wrong method, wrong media type), which carry none.</summary>
internal static class RoutingProblems
{
    public static void Describe(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Detail is not null)
        {
            return;
        }

        var request = context.HttpContext.Request;
        switch (problem.Status)
        {
            case StatusCodes.Status404NotFound:
                problem.Detail = $"no route {request.Path}";
                break;
            case StatusCodes.Status405MethodNotAllowed:
                problem.Detail = $"{request.Method} is not allowed on {request.Path}";
                break;
            case StatusCodes.Status415UnsupportedMediaType:
                problem.Detail = BindingFailureHandler.UnsupportedMediaTypeDetail(request);
                problem.Extensions["field"] = "Content-Type";
                problem.Extensions["rule"] = "mediaType";
                break;
        }
    }
}
