using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;

namespace Backtesting.Engine.Strategies.Templates;

/// <summary>
/// Goes long when the fast moving average crosses above the slow one and exits when it crosses back
/// below; with allowShort it also goes short on the downward cross. A cross needs both averages ready on
/// the previous bar too: fast ≤ slow before and fast &gt; slow now is an upward cross.
/// </summary>
public sealed class MovingAverageCross : Strategy
{
    private IMovingAverage[] _fast = [];
    private IMovingAverage[] _slow = [];
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
        _fast = new IMovingAverage[n];
        _slow = new IMovingAverage[n];
        for (var i = 0; i < n; i++)
        {
            _fast[i] = Create(FastPeriod);
            _slow[i] = Create(SlowPeriod);
        }

        _previousFast = new double[n];
        _previousSlow = new double[n];
        _hasPrevious = new bool[n];
    }

    private IMovingAverage Create(int period) => MaType == "EMA" ? new Ema(period) : new Sma(period);

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        var fast = _fast[i];
        var slow = _slow[i];
        fast.Update(bar.Close);
        slow.Update(bar.Close);
        if (!fast.IsReady || !slow.IsReady)
        {
            return;
        }

        var f = fast.Value;
        var s = slow.Value;
        if (_hasPrevious[i] && !IsWarmingUp)
        {
            var crossedUp = _previousFast[i] <= _previousSlow[i] && f > s;
            var crossedDown = _previousFast[i] >= _previousSlow[i] && f < s;
            var quantity = Position(i).Quantity;
            if (crossedUp)
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
            else if (crossedDown)
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

        _previousFast[i] = f;
        _previousSlow[i] = s;
        _hasPrevious[i] = true;
    }
}
