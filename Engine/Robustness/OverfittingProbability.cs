using System.Numerics;

namespace Backtesting.Engine.Robustness;

/// <summary>
/// A performance measure computed from a sample's sufficient statistics: the sum of its returns, the sum of their
/// squares and their count. Only such measures can be combined block by block, which keeps CSCV O(S) per trial and split.
/// </summary>
public delegate double BlockPerformance(double sum, double sumOfSquares, int count);

/// <summary>The settings of <see cref="OverfittingProbability.Compute"/>.</summary>
/// <param name="Blocks">S, the number of contiguous blocks: even, 2 to <see cref="OverfittingProbability.MaxBlocks"/>.</param>
/// <param name="MaxTrials">Most trials used: the first <c>MaxTrials</c> columns as given, the rest ignored.</param>
/// <param name="Performance">The measure ranked; null means <see cref="OverfittingProbability.Sharpe"/>.</param>
public sealed record CscvOptions(int Blocks = 16, int MaxTrials = 5_000, BlockPerformance? Performance = null);

/// <summary>One split of the blocks into in-sample and out-of-sample halves and what the selection did there.</summary>
/// <param name="InSampleBlocks">Bit b set when block b is in-sample (exactly S/2 bits).</param>
/// <param name="Selected">The in-sample best trial (column index); ties go to the lowest index.</param>
/// <param name="InSample">The selected trial's in-sample performance.</param>
/// <param name="OutOfSample">The selected trial's out-of-sample performance.</param>
/// <param name="Rank">Its 1-based out-of-sample rank among the N trials (1 the worst); ties share their average rank.</param>
/// <param name="Logit">λ = ln(ω / (1 − ω)) with ω = Rank / (N + 1).</param>
public readonly record struct CscvSplit(int InSampleBlocks, int Selected, double InSample, double OutOfSample, double Rank, double Logit);

/// <summary>The outcome of combinatorially symmetric cross-validation over a matrix of trial returns.</summary>
/// <param name="Observations">T, the rows.</param>
/// <param name="TrialsGiven">The columns of the matrix.</param>
/// <param name="TrialsUsed">N, the columns used: the first min(columns, MaxTrials).</param>
/// <param name="Blocks">S.</param>
/// <param name="Splits">Every one of the C(S, S/2) splits once, in ascending order of <see cref="CscvSplit.InSampleBlocks"/>.</param>
/// <param name="Probability">PBO, the share of splits with λ ≤ 0 (the selected trial ranks in the lower half out of sample).</param>
/// <param name="ProbabilityOfLoss">The share of splits whose selected trial's out-of-sample performance is below 0.</param>
/// <param name="DegradationSlope">The least-squares slope of out-of-sample on in-sample performance over the splits;
/// null when every split's in-sample performance is the same.</param>
/// <param name="DegradationIntercept">The intercept of that line; null with the slope.</param>
public sealed record CscvResult(
    int Observations, int TrialsGiven, int TrialsUsed, int Blocks, IReadOnlyList<CscvSplit> Splits,
    double Probability, double ProbabilityOfLoss, double? DegradationSlope, double? DegradationIntercept);

/// <summary>
/// The probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey, Borwein,
/// López de Prado and Zhu, 2017).
/// <para>The T × N matrix (rows the periods, columns the trials) is cut into S contiguous blocks of rows whose sizes
/// differ by at most one: with q = T div S and r = T mod S, the first r blocks hold q + 1 rows, the others q. For every
/// choice of S/2 blocks as in-sample (the rest out-of-sample): n* is the trial with the best in-sample performance
/// (ties: the lowest column), its out-of-sample rank among all N trials is 1 for the worst to N for the best (ties share
/// the average of their ranks), ω = rank / (N + 1) and λ = ln(ω / (1 − ω)). PBO is the share of splits with λ ≤ 0,
/// decided exactly on the rank (2 rank ≤ N + 1) rather than on the rounded logarithm.</para>
/// <para>Per-block sums and sums of squares are computed once per trial, so a split costs O(S) per trial, not O(T).</para>
/// </summary>
public static class OverfittingProbability
{
    /// <summary>The most blocks allowed: C(20, 10) = 184,756 splits; the count roughly quadruples with every 2 more.</summary>
    public const int MaxBlocks = 20;

    /// <summary>
    /// The default measure: the per-period Sharpe ratio mean / sample standard deviation (divisor count − 1). A sample
    /// whose returns do not vary (a trial that never trades, say) scores 0: its variance, computed from the sums, is then
    /// at most rounding noise, taken as at most 1e-14 of the mean square. A sample of one return (S blocks of one row
    /// each with S = 2) also scores 0.
    /// </summary>
    public static double Sharpe(double sum, double sumOfSquares, int count)
    {
        if (count < 2)
        {
            return 0;
        }

        var mean = sum / count;
        var variance = (sumOfSquares - sum * mean) / (count - 1);
        return variance > 1e-14 * sumOfSquares / count ? mean / Math.Sqrt(variance) : 0;
    }

    /// <summary>PBO and its companions for <paramref name="returns"/>[t, n] (T rows of periods, one column per trial).</summary>
    public static CscvResult Compute(float[,] returns, CscvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(returns);
        options ??= new CscvOptions();
        var s = options.Blocks;
        if (s < 2 || s % 2 != 0 || s > MaxBlocks)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), s, $"{nameof(CscvOptions.Blocks)} must be even and between 2 and {MaxBlocks}");
        }

        if (options.MaxTrials < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxTrials, $"{nameof(CscvOptions.MaxTrials)} must be at least 2");
        }

        var t = returns.GetLength(0);
        var given = returns.GetLength(1);
        if (t < s)
        {
            throw new ArgumentException($"{t} rows cannot be cut into {s} blocks: T must be at least S", nameof(returns));
        }

        RobustnessArguments.RequireTrials(given, nameof(returns));
        var n = Math.Min(given, options.MaxTrials);
        var performance = options.Performance ?? Sharpe;

        // Block b holds rows [start(b), start(b + 1)); the first T mod S blocks get the extra row.
        var sums = new double[n * s];
        var squares = new double[n * s];
        var counts = new int[s];
        int q = t / s, r = t % s;
        var row = 0;
        for (var b = 0; b < s; b++)
        {
            counts[b] = q + (b < r ? 1 : 0);
            for (var end = row + counts[b]; row < end; row++)
            {
                for (var j = 0; j < n; j++)
                {
                    var x = (double)returns[row, j];
                    if (!double.IsFinite(x))
                    {
                        throw new ArgumentException($"row {row}, column {j} is {x}; every return must be a finite number", nameof(returns));
                    }

                    sums[j * s + b] += x;
                    squares[j * s + b] += x * x;
                }
            }
        }

        var masks = new List<int>();
        for (var mask = 0; mask < 1 << s; mask++)
        {
            if (BitOperations.PopCount((uint)mask) == s / 2)
            {
                masks.Add(mask);
            }
        }

        var splits = new CscvSplit[masks.Count];
        Parallel.For(
            0, masks.Count, () => new double[n],
            (i, _, outOfSample) =>
            {
                splits[i] = Split(masks[i], s, n, sums, squares, counts, performance, outOfSample);
                return outOfSample;
            },
            _ => { });

        return Summarize(t, given, n, s, splits);
    }

    private static CscvSplit Split(
        int mask, int s, int n, double[] sums, double[] squares, int[] counts, BlockPerformance performance, double[] outOfSample)
    {
        // The two halves' block indices, so the loop over trials has no branch on the mask.
        Span<int> inBlocks = stackalloc int[s / 2];
        Span<int> outBlocks = stackalloc int[s / 2];
        int isCount = 0, oosCount = 0, ins = 0, outs = 0;
        for (var b = 0; b < s; b++)
        {
            if ((mask & (1 << b)) != 0)
            {
                inBlocks[ins++] = b;
                isCount += counts[b];
            }
            else
            {
                outBlocks[outs++] = b;
                oosCount += counts[b];
            }
        }

        var selected = -1;
        var bestInSample = double.NegativeInfinity;
        for (var j = 0; j < n; j++)
        {
            double isSum = 0, isSquares = 0, oosSum = 0, oosSquares = 0;
            var trialSums = sums.AsSpan(j * s, s);
            var trialSquares = squares.AsSpan(j * s, s);
            foreach (var b in inBlocks)
            {
                isSum += trialSums[b];
                isSquares += trialSquares[b];
            }

            foreach (var b in outBlocks)
            {
                oosSum += trialSums[b];
                oosSquares += trialSquares[b];
            }

            var inSample = performance(isSum, isSquares, isCount);
            if (selected < 0 || inSample > bestInSample)
            {
                selected = j;
                bestInSample = inSample;
            }

            outOfSample[j] = performance(oosSum, oosSquares, oosCount);
        }

        var chosen = outOfSample[selected];
        int below = 0, equal = 0;
        for (var j = 0; j < n; j++)
        {
            if (outOfSample[j] < chosen)
            {
                below++;
            }
            else if (outOfSample[j] == chosen)
            {
                equal++;
            }
        }

        // The average of the tied ranks below + 1 … below + equal.
        var rank = below + (equal + 1) / 2.0;
        var omega = rank / (n + 1);
        return new CscvSplit(mask, selected, bestInSample, chosen, rank, Math.Log(omega / (1 - omega)));
    }

    /// <summary>
    /// Whether a split counts towards PBO: λ ≤ 0, decided exactly on the rank (2 rank ≤ N + 1) rather than on the
    /// rounded logarithm.
    /// </summary>
    public static bool Overfit(CscvSplit split, int trialsUsed) => 2 * split.Rank <= trialsUsed + 1;

    /// <summary>
    /// The histogram of the splits' logits λ in <paramref name="bins"/> (even) equal-width bins symmetric about 0 over
    /// [−m, m], m the largest |λ| (1 when every λ is 0), so that 0 is a bin edge. Each bin is (low, high] but the first,
    /// which also holds −m, and a split goes left of 0 exactly when it is <see cref="Overfit"/>: the left half's counts
    /// sum to PBO × splits. A split counted left of 0 whose λ rounds above 0 (or right with λ ≤ 0) cannot occur for
    /// N below 2^50 trials, but the side is still taken from the rank.
    /// </summary>
    public static IReadOnlyList<HistogramBin> LogitHistogram(CscvResult result, int bins = 20)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (bins < 2 || bins % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "bins must be even and at least 2, so that 0 is an edge");
        }

        var half = bins / 2;
        var m = 0.0;
        foreach (var split in result.Splits)
        {
            m = Math.Max(m, Math.Abs(split.Logit));
        }

        if (!(m > 0))
        {
            m = 1;
        }

        var width = m / half;
        var counts = new int[bins];
        foreach (var split in result.Splits)
        {
            var steps = Math.Abs(split.Logit) / width;
            counts[Overfit(split, result.TrialsUsed)
                ? Math.Clamp(half - 1 - (int)Math.Floor(steps), 0, half - 1)
                : Math.Clamp(half + (int)Math.Ceiling(steps) - 1, half, bins - 1)] += 1;
        }

        var histogram = new HistogramBin[bins];
        for (var b = 0; b < bins; b++)
        {
            histogram[b] = new HistogramBin(b == 0 ? -m : (b - half) * width, b == bins - 1 ? m : (b - half + 1) * width, counts[b]);
        }

        return histogram;
    }

    private static CscvResult Summarize(int t, int given, int n, int s, CscvSplit[] splits)
    {
        int overfit = 0, losses = 0;
        double meanIs = 0, meanOos = 0;
        foreach (var split in splits)
        {
            if (Overfit(split, n))
            {
                overfit++;
            }

            if (split.OutOfSample < 0)
            {
                losses++;
            }

            meanIs += split.InSample;
            meanOos += split.OutOfSample;
        }

        meanIs /= splits.Length;
        meanOos /= splits.Length;
        double sxx = 0, sxy = 0;
        var allSame = true;
        foreach (var split in splits)
        {
            allSame &= split.InSample == splits[0].InSample;
            var dx = split.InSample - meanIs;
            sxx += dx * dx;
            sxy += dx * (split.OutOfSample - meanOos);
        }

        double? slope = !allSame && sxx > 0 ? sxy / sxx : null;
        double? intercept = slope is { } b ? meanOos - b * meanIs : null;
        return new CscvResult(
            t, given, n, s, splits, (double)overfit / splits.Length, (double)losses / splits.Length, slope, intercept);
    }
}
