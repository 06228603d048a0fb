using Backtesting.Api.Backtests;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.WalkForward;

/// <summary>
/// Maps what the walk-forward grain throws to answers: a move its state does not allow 409 (with the current state),
/// an invalid job 400 (every error), an unknown job 404, an unreachable cluster 503.
/// </summary>
public sealed class WalkForwardErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (IllegalOptimizationMoveException e)
        {
            var id = context.Arguments.OfType<Guid>().FirstOrDefault();
            return Results.Problem(statusCode: 409, title: "Conflict", detail: e.Message.Replace("an optimization", "a walk-forward", StringComparison.Ordinal),
                extensions: new Dictionary<string, object?> { ["walkForwardId"] = id, ["currentState"] = OptimizationLifecycle.Word(e.Current) });
        }
        catch (OptimizationValidationException e)
        {
            return Problems.Invalid(e.Errors);
        }
        catch (KeyNotFoundException)
        {
            return WalkForwardHandlers.NotFound(context.Arguments.OfType<Guid>().FirstOrDefault());
        }
        catch (Exception e) when (Problems.IsClusterUnavailable(e))
        {
            return Problems.ClusterUnavailable();
        }
    }
}
