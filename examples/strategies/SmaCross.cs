// A custom strategy: the same logic as the MovingAverageCross template, written as an upload would be.
// Compile it with:  dotnet run --project Worker -c Release -- compile --source examples/strategies/SmaCross.cs
// Run it with:      dotnet run --project Worker -c Release -- --config examples/spy-sma-cross-custom.json \
//                       --strategy-source examples/strategies/SmaCross.cs --output out/custom
using System.Collections.Generic;
using System.Linq;
using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;
using Backtesting.Engine.Strategies;

[StrategyInfo("Trend following: long when the fast moving average crosses above the slow one.")]
public sealed class SmaCross : Strategy
{
    private Sma[] _fastSma = [];
    private Sma[] _slowSma = [];
    private Ema[] _fastEma = [];
    private Ema[] _slowEma = [];
    private double[] _previousFast = [];
    private double[] _previousSlow = [];
    private bool[] _hasPrevious = [];

    [Parameter("Bars in the fast moving average", Min = 1, Max = 500, Required = true)]
    public int FastPeriod { get; set; } = 10;

    [Parameter("Bars in the slow moving average; must be more than fastPeriod", Min = 2, Max = 1000, Required = true)]
    public int SlowPeriod { get; set; } = 30;

    [Parameter("Kind of moving average", Allowed = ["SMA", "EMA"])]
    public string MaType { get; set; } = "SMA";

    [Parameter("Also trade the downward cross short (needs a margin account)")]
    public bool AllowShort { get; set; }

    public override int WarmupBars => SlowPeriod;

    public override IEnumerable<ValidationError> ValidateParameters()
    {
        if (FastPeriod >= SlowPeriod)
        {
            yield return new ValidationError("strategyConfig.fastPeriod", "lessThan",
                $"fastPeriod ({FastPeriod}) must be less than slowPeriod ({SlowPeriod})");
        }
    }

    public override void OnStart()
    {
        var n = Instruments.Count;
        if (MaType == "EMA")
        {
            _fastEma = Enumerable.Range(0, n).Select(_ => new Ema(FastPeriod)).ToArray();
            _slowEma = Enumerable.Range(0, n).Select(_ => new Ema(SlowPeriod)).ToArray();
        }
        else
        {
            _fastSma = Enumerable.Range(0, n).Select(_ => new Sma(FastPeriod)).ToArray();
            _slowSma = Enumerable.Range(0, n).Select(_ => new Sma(SlowPeriod)).ToArray();
        }

        _previousFast = new double[n];
        _previousSlow = new double[n];
        _hasPrevious = new bool[n];
    }

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        double fast, slow;
        if (MaType == "EMA")
        {
            _fastEma[i].Update(bar.Close);
            _slowEma[i].Update(bar.Close);
            if (!_fastEma[i].IsReady || !_slowEma[i].IsReady)
            {
                return;
            }

            fast = _fastEma[i].Value;
            slow = _slowEma[i].Value;
        }
        else
        {
            _fastSma[i].Update(bar.Close);
            _slowSma[i].Update(bar.Close);
            if (!_fastSma[i].IsReady || !_slowSma[i].IsReady)
            {
                return;
            }

            fast = _fastSma[i].Value;
            slow = _slowSma[i].Value;
        }

        if (_hasPrevious[i] && !IsWarmingUp)
        {
            var crossedUp = _previousFast[i] <= _previousSlow[i] && fast > slow;
            var crossedDown = _previousFast[i] >= _previousSlow[i] && fast < slow;
            if (crossedUp)
            {
                OnCross(i, up: true);
            }
            else if (crossedDown)
            {
                OnCross(i, up: false);
            }
        }

        _previousFast[i] = fast;
        _previousSlow[i] = slow;
        _hasPrevious[i] = true;
    }

    private void OnCross(int i, bool up)
    {
        var quantity = Position(i).Quantity;
        if (up)
        {
            if (quantity < 0)
            {
                ExitPosition(i);
            }

            if (quantity <= 0)
            {
                EnterLong(i);
            }
        }
        else
        {
            if (quantity > 0)
            {
                ExitPosition(i);
            }

            if (AllowShort && quantity >= 0)
            {
                EnterShort(i);
            }
        }
    }
}
