using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Backtests;

/// <summary>
/// A ProblemDetails answer whose status a handler's return type names (<c>Results&lt;Ok&lt;T&gt;, NotFoundProblem, ...&gt;</c>),
/// so the OpenAPI document lists it without a hand-written <c>.Produces(...)</c>. It writes exactly what the wrapped
/// <see cref="Problems"/> answer writes: the type only adds the documentation.
/// </summary>
public abstract class ProblemResult(IResult problem) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext) => problem.ExecuteAsync(httpContext);

    /// <summary>What <c>.ProducesProblem(status)</c> declares (<c>.ProducesValidationProblem()</c> for 400).</summary>
    private protected static void Document(EndpointBuilder builder, int statusCode) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(statusCode,
            statusCode == StatusCodes.Status400BadRequest ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails),
            ["application/problem+json"]));
}

/// <summary>400: the request breaks rules, each named by field under <c>errors</c> and <c>rules</c>.</summary>
public sealed class InvalidProblem(IResult problem) : ProblemResult(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Document(builder, StatusCodes.Status400BadRequest);
}

/// <summary>404: no such resource, or one the caller may not see.</summary>
public sealed class NotFoundProblem(IResult problem) : ProblemResult(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Document(builder, StatusCodes.Status404NotFound);
}

/// <summary>409: the request does not fit the resource's current state.</summary>
public sealed class ConflictProblem(IResult problem) : ProblemResult(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Document(builder, StatusCodes.Status409Conflict);
}

/// <summary>413: the request's content is over a size limit.</summary>
public sealed class TooLargeProblem(IResult problem) : ProblemResult(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Document(builder, StatusCodes.Status413PayloadTooLarge);
}

/// <summary>422: the request is well-formed but its content is refused (a strategy that does not compile).</summary>
public sealed class UnprocessableProblem(IResult problem) : ProblemResult(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Document(builder, StatusCodes.Status422UnprocessableEntity);
}

/// <summary>429: a limit is reached; the handler sets Retry-After.</summary>
public sealed class TooManyRequestsProblem(IResult problem) : ProblemResult(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Document(builder, StatusCodes.Status429TooManyRequests);
}

/// <summary>503: a service the route needs is unavailable for now.</summary>
public sealed class UnavailableProblem(IResult problem) : ProblemResult(problem), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Document(builder, StatusCodes.Status503ServiceUnavailable);
}
