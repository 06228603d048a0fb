using System.Globalization;
using Backtesting.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Backtesting.Api.Robustness;

/// <summary>
/// How many heavy statistics the API process computes at once. A Monte Carlo of 100,000 paths or CSCV over thousands of
/// trials takes a core for up to seconds, in the same process that answers every status poll; unbounded, a burst of them
/// would starve the rest. At most <see cref="Slots"/> run at once; a request waits up to <see cref="Wait"/> for a slot,
/// then is refused (503 with Retry-After, by <see cref="ComputeGateFilter"/>) rather than queued without end.
/// </summary>
public sealed class ComputeGate : IDisposable
{
    private readonly SemaphoreSlim _slots;

    public ComputeGate(IOptions<ApiOptions> options)
        : this(options.Value.RobustnessComputations > 0 ? options.Value.RobustnessComputations : Environment.ProcessorCount, options.Value.RobustnessWait)
    {
    }

    public ComputeGate(int slots, TimeSpan wait)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        ArgumentOutOfRangeException.ThrowIfLessThan(wait, TimeSpan.Zero);
        Slots = slots;
        Wait = wait;
        _slots = new SemaphoreSlim(slots, slots);
    }

    public int Slots { get; }

    public TimeSpan Wait { get; }

    /// <summary>Slots free now.</summary>
    public int Available => _slots.CurrentCount;

    /// <summary>A slot, held until the lease is disposed; null when none freed within <see cref="Wait"/>.</summary>
    public async Task<IDisposable?> TryEnterAsync(CancellationToken cancellationToken)
    {
        return await _slots.WaitAsync(Wait, cancellationToken) ? new Lease(_slots) : null;
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Lease(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}

/// <summary>Runs a route inside a <see cref="ComputeGate"/> slot, or answers 503 with Retry-After when none frees in time.</summary>
public sealed class ComputeGateFilter(ComputeGate gate) : IEndpointFilter
{
    /// <summary>The Retry-After, in seconds, of a refusal: about one computation's time.</summary>
    public const int RetryAfterSeconds = 2;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        using var lease = await gate.TryEnterAsync(context.HttpContext.RequestAborted);
        if (lease is null)
        {
            context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable",
                detail: $"{gate.Slots} statistics computations are running and none finished within {gate.Wait.TotalSeconds:0.#} s; retry shortly");
        }

        return await next(context);
    }
}
