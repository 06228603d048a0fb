using Backtesting.Api.Backtests;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Optimizations;

/// <summary>
/// Maps what the optimization grains throw to answers: a move the job's state does not allow 409 (with the current
/// state), an invalid job 400 (every error), an unknown job 404, an unreachable cluster 503.
/// </summary>
public sealed class OptimizationErrorFilter : IEndpointFilter
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
            return Results.Problem(statusCode: 409, title: "Conflict", detail: e.Message,
                extensions: new Dictionary<string, object?> { ["optimizationId"] = id, ["currentState"] = OptimizationLifecycle.Word(e.Current) });
        }
        catch (OptimizationValidationException e)
        {
            return Problems.Invalid(e.Errors);
        }
        catch (BacktestValidationException e)
        {
            // A trial opened as a backtest: the backtest's own rules refused it.
            return Problems.Invalid(e.Errors);
        }
        catch (KeyNotFoundException)
        {
            return OptimizationProblems.NotFound(context.Arguments.OfType<Guid>().FirstOrDefault());
        }
        catch (Exception e) when (Problems.IsClusterUnavailable(e))
        {
            return Problems.ClusterUnavailable();
        }
    }
}
