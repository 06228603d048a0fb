using Backtesting.Api.Backtests;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Optimizations;

/// <summary>
/// Maps what a job's grains throw to answers, the same for every kind of job (an optimization, a walk-forward): a move
/// the job's state does not allow 409 (with the current state), an invalid job 400 (every error), an unknown job 404,
/// an unreachable cluster 503. A kind names itself, the field its id is answered in, and its own not-found answer.
/// </summary>
public abstract class JobErrorFilter(string noun, string idField, Func<Guid, IResult> notFound) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (IllegalOptimizationMoveException e)
        {
            var state = OptimizationLifecycle.Word(e.Current);
            return Results.Problem(statusCode: 409, title: "Conflict", detail: $"cannot {e.Action} {noun} that is {state}",
                extensions: new Dictionary<string, object?> { [idField] = JobId(context), ["currentState"] = state });
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
            return notFound(JobId(context));
        }
        catch (Exception e) when (Problems.IsClusterUnavailable(e))
        {
            return Problems.ClusterUnavailable();
        }
    }

    private static Guid JobId(EndpointFilterInvocationContext context) => context.Arguments.OfType<Guid>().FirstOrDefault();
}

/// <summary>The answers of the optimization routes (<see cref="JobErrorFilter"/>).</summary>
public sealed class OptimizationErrorFilter() : JobErrorFilter("an optimization", "optimizationId", id => OptimizationProblems.NotFound(id));
