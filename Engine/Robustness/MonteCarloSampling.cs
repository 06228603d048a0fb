using Backtesting.Engine.Optimization;

namespace Backtesting.Engine.Robustness;

/// <summary>How a Monte Carlo path is drawn from the observed returns.</summary>
public enum MonteCarloMethod
{
    /// <summary>The closed trades' returns in a random order (a uniform permutation): every path ends at the same equity.</summary>
    TradeShuffle,

    /// <summary>The closed trades' returns drawn with replacement, as many as there were: the final equity varies.</summary>
    TradeResample,

    /// <summary>The stationary bootstrap (Politis and Romano, 1994) of the daily returns, blocks of geometric length.</summary>
    StationaryBootstrap,
}

/// <summary>
/// The three samplers: each fills a path with indices into the observed returns, from a generator the caller owns.
/// </summary>
public static class MonteCarloSampling
{
    /// <summary>A uniform permutation of 0..n−1 (Fisher–Yates, from the last position down).</summary>
    public static void Shuffle(ref SplitMix64 random, Span<int> indices)
    {
        for (var i = 0; i < indices.Length; i++)
        {
            indices[i] = i;
        }

        for (var i = indices.Length - 1; i > 0; i--)
        {
            var j = (int)random.NextLong(i + 1);
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }
    }

    /// <summary>Each position an independent uniform draw from 0..<paramref name="count"/>−1.</summary>
    public static void Resample(ref SplitMix64 random, int count, Span<int> indices)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        for (var i = 0; i < indices.Length; i++)
        {
            indices[i] = (int)random.NextLong(count);
        }
    }

    /// <summary>
    /// The stationary bootstrap: the first position starts a block at a uniform index; each later position starts a new
    /// block at a uniform index with probability p = 1 / <paramref name="meanBlockLength"/>, else continues the block with
    /// the next index, wrapping from the last to the first. Block lengths are therefore geometric with mean 1/p (the
    /// last block of a path is cut by its end). <paramref name="blockStarts"/>, when not empty, is set where a block begins.
    /// </summary>
    public static void StationaryBootstrap(ref SplitMix64 random, int count, double meanBlockLength, Span<int> indices,
        Span<bool> blockStarts = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (!(meanBlockLength >= 1) || !double.IsFinite(meanBlockLength))
        {
            throw new ArgumentOutOfRangeException(nameof(meanBlockLength), meanBlockLength, "must be a finite number >= 1");
        }

        var record = !blockStarts.IsEmpty;
        if (record && blockStarts.Length != indices.Length)
        {
            throw new ArgumentException("blockStarts must be as long as indices", nameof(blockStarts));
        }

        var p = 1 / meanBlockLength;
        var at = 0;
        for (var i = 0; i < indices.Length; i++)
        {
            var start = i == 0 || random.NextDouble() < p;
            at = start ? (int)random.NextLong(count) : (at + 1 == count ? 0 : at + 1);
            indices[i] = at;
            if (record)
            {
                blockStarts[i] = start;
            }
        }
    }
}
