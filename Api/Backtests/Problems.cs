using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Backtests;

/// <summary>The API's error answers, all ProblemDetails (RFC 9457).</summary>
public static class Problems
{
    public static NotFoundProblem NotFound(Guid id) =>
        new(Results.Problem(statusCode: 404, title: "Not found", detail: $"backtest {id} not found"));

    /// <summary>409: the backtest exists but has stored no results yet; its stored status is returned.</summary>
    public static ConflictProblem NoResultsYet(Guid id, string status) =>
        new(Results.Problem(statusCode: 409, title: "Conflict", detail: $"backtest {id} has no results yet (it is {status})",
            extensions: new Dictionary<string, object?> { ["backtestId"] = id, ["currentState"] = status }));

    /// <summary>400 with every error keyed by its field, and the rule each breaks under <c>rules</c>.</summary>
    public static InvalidProblem Invalid(IReadOnlyList<ValidationError> errors) =>
        new(Results.ValidationProblem(
            errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()),
            detail: $"the request has {errors.Count} error(s)",
            title: "Invalid request",
            extensions: new Dictionary<string, object?> { ["rules"] = errors }));

    public static InvalidProblem Invalid(string field, string rule, string message) => Invalid([new ValidationError(field, rule, message)]);

    /// <summary>
    /// The API cannot reach a silo (all stopped, or one replaced and the client not yet reconnected): a temporary
    /// condition, so 503 with Retry-After rather than a 500.
    /// </summary>
    public static IResult ClusterUnavailable() =>
        new UnavailableResult(Results.Problem(statusCode: 503, title: "Service unavailable",
            detail: "the backtest cluster is not reachable right now; retry shortly"));

    /// <summary>
    /// PostgreSQL is unreachable or restarting (<see cref="Backtesting.Storage.DatabaseFaults"/>): temporary too, so 503
    /// with the same Retry-After, never 500.
    /// </summary>
    public static IResult DatabaseUnavailable() =>
        new UnavailableResult(Results.Problem(statusCode: 503, title: "Service unavailable",
            detail: "the database is not reachable right now; retry shortly"));

    public static bool IsClusterUnavailable(Exception e) =>
        e is Orleans.Runtime.Messaging.ConnectionFailedException or SiloUnavailableException or OrleansMessageRejectionException;

    /// <summary>The seconds a client is told to wait (Retry-After) when a service the API needs is away for now.</summary>
    public const int RetryAfterSeconds = 2;

    private sealed class UnavailableResult(IResult problem) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return problem.ExecuteAsync(httpContext);
        }
    }

    /// <summary>409: the request does not fit the backtest's current state, which is returned.</summary>
    public static IResult Conflict(Guid id, BacktestState current, string detail) =>
        Results.Problem(statusCode: 409, title: "Conflict", detail: detail,
            extensions: new Dictionary<string, object?> { ["backtestId"] = id, ["currentState"] = StatusWords.Of(current) });
}

/// <summary>The status words clients see: the seed's lower-case words, as stored in the backtests table.</summary>
public static class StatusWords
{
    public static string Of(BacktestState state) => Lifecycle.Word(state);
}

/// <summary>Maps what the grains throw to answers: unknown ids 404, illegal transitions 409, invalid configs 400.</summary>
public sealed class GrainErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (IllegalTransitionException e)
        {
            var id = context.Arguments.OfType<Guid>().FirstOrDefault();
            return Problems.Conflict(id, e.Current, e.Message);
        }
        catch (BacktestValidationException e)
        {
            return Problems.Invalid(e.Errors);
        }
        catch (KeyNotFoundException)
        {
            return Problems.NotFound(context.Arguments.OfType<Guid>().FirstOrDefault());
        }
        catch (Exception e) when (Problems.IsClusterUnavailable(e))
        {
            return Problems.ClusterUnavailable();
        }
    }
}

/// <summary>An example for the OpenAPI document, attached to an endpoint.</summary>
public sealed record ApiExample(int StatusCode, string Json, bool IsRequest = false);

public static class ExampleExtensions
{
    public static RouteHandlerBuilder WithExample(this RouteHandlerBuilder builder, int statusCode, string json) =>
        builder.WithMetadata(new ApiExample(statusCode, json));

    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, string json) =>
        builder.WithMetadata(new ApiExample(0, json, IsRequest: true));

    /// <summary>
    /// Error answers a route gives that its handler's return type cannot name (authentication's 401 and 403, what
    /// <see cref="GrainErrorFilter"/> maps), documented with the standard example of each.
    /// </summary>
    public static RouteHandlerBuilder WithStandardErrors(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        foreach (var status in statusCodes)
        {
            builder = status == 400
                ? builder.ProducesValidationProblem()
                : builder.ProducesProblem(status);
        }

        return builder.WithProblemExamples(statusCodes);
    }

    /// <summary>The standard example of each error answer (the handler's return type documents the answers themselves).</summary>
    public static RouteHandlerBuilder WithProblemExamples(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        foreach (var status in statusCodes)
        {
            builder = builder.WithExample(status, status switch
            {
                400 => """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"Invalid request","status":400,"detail":"the request has 2 error(s)","errors":{"endDate":["endDate must be after startDate"],"initialBalance":["initialBalance must be at least 1,000"]},"rules":[{"field":"endDate","rule":"afterStart","message":"endDate must be after startDate"},{"field":"initialBalance","rule":"min","message":"initialBalance must be at least 1,000"}]}""",
                401 => """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.2","title":"Unauthorized","status":401,"detail":"send an API key as 'Authorization: Bearer <key>'"}""",
                403 => """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.4","title":"Forbidden","status":403,"detail":"this route is for admins"}""",
                404 => """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not found","status":404,"detail":"backtest 3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11 not found"}""",
                409 => """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Conflict","status":409,"detail":"cannot pause a backtest that is Completed","backtestId":"3f2c0d4e-8a1b-4c55-9d7e-2b1f0a9c6e11","currentState":"completed"}""",
                429 => """{"type":"https://tools.ietf.org/html/rfc6585#section-4","title":"Too many requests","status":429,"detail":"at most 10 backtest starts per 5 minutes; retry in 212 s"}""",
                _ => """{"title":"Error","status":500}""",
            });
        }

        return builder;
    }
}
