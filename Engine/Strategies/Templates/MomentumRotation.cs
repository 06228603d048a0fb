using Backtesting.Engine.Data;

namespace Backtesting.Engine.Strategies.Templates;

/// <summary>
/// Cross-sectional momentum: every rebalanceDays trading days, ranks the instruments by their return over
/// the last lookback bars and holds the topN with positive momentum in equal weights (each 1/topN of
/// the sizing rule), selling the rest. Ties break by instrument order, so runs are deterministic.
/// </summary>
public sealed class MomentumRotation : Strategy
{
    private double[][] _history = [];
    private int[] _seen = [];
    private int _lastDay = -1;
    private int _rebalancedDay = -1;
    private int _daysSinceRebalance = int.MaxValue / 2;

    [Parameter("Bars over which momentum (total return) is measured", Min = 2, Max = 500, Required = true)]
    public int Lookback { get; set; } = 60;

    [Parameter("How many of the strongest instruments to hold", Min = 1, Max = 50, Required = true)]
    public int TopN { get; set; } = 1;

    [Parameter("Trading days between rebalances", Min = 1, Max = 252, Required = true)]
    public int RebalanceDays { get; set; } = 21;

    public override int WarmupBars => Lookback + 1;

    public override void OnStart()
    {
        _history = Instruments.Select(_ => new double[Lookback + 1]).ToArray();
        _seen = new int[Instruments.Count];
    }

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        _history[i][_seen[i] % (Lookback + 1)] = bar.Close;
        _seen[i]++;
        if (bar.LocalDay != _lastDay)
        {
            _lastDay = bar.LocalDay;
            if (!IsWarmingUp)
            {
                _daysSinceRebalance++;
            }
        }
    }

    public override void OnSliceEnd(DateTime time)
    {
        if (IsWarmingUp || _lastDay == _rebalancedDay || _daysSinceRebalance < RebalanceDays)
        {
            return;
        }

        var ranked = new List<(int Index, double Momentum)>();
        for (var i = 0; i < Instruments.Count; i++)
        {
            if (_seen[i] <= Lookback)
            {
                continue;
            }

            var window = _history[i];
            var latest = window[(_seen[i] - 1) % (Lookback + 1)];
            var oldest = window[_seen[i] % (Lookback + 1)];
            if (oldest > 0)
            {
                ranked.Add((i, latest / oldest - 1));
            }
        }

        if (ranked.Count == 0)
        {
            return;
        }

        _rebalancedDay = _lastDay;
        _daysSinceRebalance = 0;
        var chosen = ranked
            .OrderByDescending(r => r.Momentum)
            .ThenBy(r => r.Index)
            .Take(TopN)
            .Where(r => r.Momentum > 0)
            .Select(r => r.Index)
            .ToHashSet();
        for (var i = 0; i < Instruments.Count; i++)
        {
            TargetWeight(i, chosen.Contains(i) ? 1.0 / TopN : 0);
        }
    }
}
