using System.Text.Json;

namespace Backtesting.Engine.Optimization;

/// <summary>The tree-structured Parzen estimator's settings; docs/optimization.md explains each.</summary>
/// <param name="StartupTrials">Finished trials drawn at random before the model proposes.</param>
/// <param name="Gamma">The fraction of ranked trials that counts as good (at least one).</param>
/// <param name="Candidates">Points drawn from the good density per proposal; the one maximizing l(x)/g(x) is proposed.</param>
/// <param name="PriorWeight">The weight of the prior (a wide component, or one pseudo-count per category) beside each observation's 1.</param>
public sealed record TpeSettings(int StartupTrials = 10, double Gamma = 0.25, int Candidates = 24, double PriorWeight = 1.0)
{
    public static TpeSettings Default { get; } = new();
}

/// <summary>
/// A tree-structured Parzen estimator (Bergstra et al., 2011), written here: finished trials are split into good (the best
/// <c>ceil(gamma · n)</c> ranked ones) and bad (the rest, infeasible ones included); each dimension gets a density l(x)
/// from the good and g(x) from the bad (a mixture of truncated normals for ranges, smoothed frequencies for lists); the
/// proposal is the candidate drawn from l with the largest Σ log l − log g over dimensions. Until
/// <see cref="TpeSettings.StartupTrials"/> trials are ranked it proposes what <see cref="RandomSearch"/> would.
/// </summary>
public sealed class TpeSearch(SearchSpace space, long seed, Objective objective, TpeSettings? settings = null) : ISearchMethod
{
    private readonly TpeSettings _settings = settings ?? TpeSettings.Default;

    public IReadOnlyList<TrialPoint> Propose(IReadOnlyList<TrialPoint> proposed, IReadOnlyList<TrialOutcome> finished, int count)
    {
        var seen = Unseen.Proposed(space, proposed);
        var ranked = finished.Where(t => t.Ranked)
            .OrderByDescending(t => objective.Score(t.ObjectiveValue!.Value)).ThenBy(t => t.Trial).ToList();
        var model = ranked.Count >= Math.Max(1, _settings.StartupTrials) ? Fit(ranked, finished) : null;
        var points = new List<TrialPoint>();
        for (var trial = proposed.Count; points.Count < count; trial++)
        {
            var random = SplitMix64.ForTrial(seed, trial);
            var point = model is null ? Unseen.Draw(space, ref random, seen) : Suggest(model, ref random, seen);
            if (point is null)
            {
                break;
            }

            points.Add(new TrialPoint(trial, point));
        }

        return points;
    }

    private DimensionModel[] Fit(List<TrialOutcome> ranked, IReadOnlyList<TrialOutcome> finished)
    {
        var goodCount = Math.Min(ranked.Count, Math.Max(1, (int)Math.Ceiling(_settings.Gamma * finished.Count)));
        var good = ranked.Take(goodCount).ToList();
        var goodTrials = good.Select(t => t.Trial).ToHashSet();
        var bad = finished.Where(t => !goodTrials.Contains(t.Trial)).OrderBy(t => t.Trial).ToList();
        return space.Dimensions.Select(d => DimensionModel.Fit(d, good, bad, _settings.PriorWeight)).ToArray();
    }

    private IReadOnlyDictionary<string, JsonElement>? Suggest(DimensionModel[] model, ref SplitMix64 random, HashSet<string>? seen)
    {
        var candidates = new List<(double Score, JsonElement[] Values)>(_settings.Candidates);
        for (var c = 0; c < _settings.Candidates; c++)
        {
            var values = new JsonElement[model.Length];
            var score = 0.0;
            for (var d = 0; d < model.Length; d++)
            {
                (values[d], var ratio) = model[d].Draw(ref random);
                score += ratio;
            }

            candidates.Add((score, values));
        }

        // Best first; a stable sort keeps the draw order between equal scores.
        foreach (var (_, values) in candidates.OrderByDescending(c => c.Score))
        {
            var point = space.Point(values);
            if (Unseen.Claim(space, seen, point))
            {
                return point;
            }
        }

        return Unseen.Draw(space, ref random, seen);
    }

    /// <summary>One dimension's l and g: a value drawn from l, and log l − log g at it.</summary>
    private abstract class DimensionModel
    {
        public abstract (JsonElement Value, double LogRatio) Draw(ref SplitMix64 random);

        public static DimensionModel Fit(Dimension dimension, List<TrialOutcome> good, List<TrialOutcome> bad, double prior) => dimension switch
        {
            RangeDimension range when range.Min < range.Max => new Parzen(range,
                Mixture.Of(range, good.Select(t => range.ToCoordinate(t.Parameters[range.Name].GetDouble())), prior),
                Mixture.Of(range, bad.Select(t => range.ToCoordinate(t.Parameters[range.Name].GetDouble())), prior)),
            CategoricalDimension list when list.Values.Count > 1 => new Frequencies(list, good, bad, prior),
            _ => new Constant(dimension.First),
        };
    }

    private sealed class Constant(JsonElement value) : DimensionModel
    {
        public override (JsonElement, double) Draw(ref SplitMix64 random) => (value, 0);
    }

    private sealed class Parzen(RangeDimension range, Mixture good, Mixture bad) : DimensionModel
    {
        public override (JsonElement, double) Draw(ref SplitMix64 random)
        {
            var value = range.FromCoordinate(good.Sample(ref random));
            // Scored where the value actually lies (on its step, rounded for integers).
            var at = range.ToCoordinate(value.GetDouble());
            return (value, good.LogDensity(at) - bad.LogDensity(at));
        }
    }

    /// <summary>
    /// A mixture of normals truncated to the range's coordinates: one per observation, centred on it, its width the larger
    /// distance to a neighbour (or bound) clipped to [(high − low) / min(100, n + 1), high − low]; plus the prior, centred
    /// mid-range with width high − low, weighing <c>prior</c> against each observation's 1.
    /// </summary>
    private sealed class Mixture
    {
        private readonly double _low, _high;
        private readonly double[] _mu, _sigma, _weight, _mass;

        private Mixture(double low, double high, double[] mu, double[] sigma, double[] weight)
        {
            (_low, _high, _mu, _sigma, _weight) = (low, high, mu, sigma, weight);
            _mass = new double[mu.Length];
            for (var k = 0; k < mu.Length; k++)
            {
                _mass[k] = Math.Max(Normal.Cdf((high - mu[k]) / sigma[k]) - Normal.Cdf((low - mu[k]) / sigma[k]), 1e-300);
            }
        }

        public static Mixture Of(RangeDimension range, IEnumerable<double> observations, double prior)
        {
            var (low, high) = range.Coordinates;
            var width = high - low;
            var sorted = observations.Order().ToArray();
            var n = sorted.Length;
            var mu = new double[n + 1];
            var sigma = new double[n + 1];
            var weight = new double[n + 1];
            var minimum = width / Math.Min(100.0, n + 1.0);
            for (var i = 0; i < n; i++)
            {
                var left = i == 0 ? low : sorted[i - 1];
                var right = i == n - 1 ? high : sorted[i + 1];
                mu[i] = sorted[i];
                sigma[i] = Math.Clamp(Math.Max(sorted[i] - left, right - sorted[i]), minimum, width);
                weight[i] = 1.0 / (n + prior);
            }

            mu[n] = low + width / 2;
            sigma[n] = width;
            weight[n] = prior / (n + prior);
            return new Mixture(low, high, mu, sigma, weight);
        }

        public double Sample(ref SplitMix64 random)
        {
            var pick = random.NextDouble();
            var k = 0;
            for (var acc = _weight[0]; k < _weight.Length - 1 && pick >= acc; acc += _weight[++k])
            {
            }

            for (var attempt = 0; attempt < 32; attempt++)
            {
                var x = _mu[k] + _sigma[k] * random.NextGaussian();
                if (x >= _low && x <= _high)
                {
                    return x;
                }
            }

            return Math.Clamp(_mu[k], _low, _high);
        }

        public double LogDensity(double x)
        {
            var sum = 0.0;
            for (var k = 0; k < _mu.Length; k++)
            {
                var z = (x - _mu[k]) / _sigma[k];
                sum += _weight[k] * Math.Exp(-0.5 * z * z) / (_sigma[k] * Math.Sqrt(2 * Math.PI) * _mass[k]);
            }

            return Math.Log(Math.Max(sum, 1e-300));
        }
    }

    /// <summary>Smoothed frequencies of a list's values: p(v) = (count(v) + prior) / (n + K · prior).</summary>
    private sealed class Frequencies : DimensionModel
    {
        private readonly CategoricalDimension _list;
        private readonly double[] _good, _bad;

        public Frequencies(CategoricalDimension list, List<TrialOutcome> good, List<TrialOutcome> bad, double prior)
        {
            _list = list;
            _good = Probabilities(list, good, prior);
            _bad = Probabilities(list, bad, prior);
        }

        private static double[] Probabilities(CategoricalDimension list, List<TrialOutcome> trials, double prior)
        {
            var counts = new double[list.Values.Count];
            var index = list.Values.Select((v, i) => (v.GetRawText(), i)).ToDictionary(x => x.Item1, x => x.i, StringComparer.Ordinal);
            foreach (var trial in trials)
            {
                if (index.TryGetValue(trial.Parameters[list.Name].GetRawText(), out var i))
                {
                    counts[i]++;
                }
            }

            var total = trials.Count + counts.Length * prior;
            return counts.Select(c => (c + prior) / total).ToArray();
        }

        public override (JsonElement, double) Draw(ref SplitMix64 random)
        {
            var pick = random.NextDouble();
            var k = 0;
            for (var acc = _good[0]; k < _good.Length - 1 && pick >= acc; acc += _good[++k])
            {
            }

            return (_list.Values[k], Math.Log(_good[k]) - Math.Log(_bad[k]));
        }
    }
}

/// <summary>The standard normal distribution function, by the error function (Abramowitz and Stegun 7.1.26, |error| &lt; 1.5e-7).</summary>
internal static class Normal
{
    public static double Cdf(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));

    private static double Erf(double x)
    {
        var sign = Math.Sign(x);
        x = Math.Abs(x);
        var t = 1 / (1 + 0.3275911 * x);
        var y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return sign * y;
    }
}
