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
    // Concrete types, not a shared moving-average interface: OnBar runs for every bar, and direct calls to the sealed classes inline.
    private Sma[] _fastSma = [];
    private Sma[] _slowSma = [];
    private Ema[] _fastEma = [];
    private Ema[] _slowEma = [];
    private bool _useEma;
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
        _useEma = MaType == "EMA";
        if (_useEma)
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
        double f, s;
        // Two near-identical branches on purpose: see the fields above.
        if (_useEma)
        {
            var fast = _fastEma[i];
            var slow = _slowEma[i];
            fast.Update(bar.Close);
            slow.Update(bar.Close);
            if (!fast.IsReady || !slow.IsReady)
            {
                return;
            }

            f = fast.Value;
            s = slow.Value;
        }
        else
        {
            var fast = _fastSma[i];
            var slow = _slowSma[i];
            fast.Update(bar.Close);
            slow.Update(bar.Close);
            if (!fast.IsReady || !slow.IsReady)
            {
                return;
            }

            f = fast.Value;
            s = slow.Value;
        }

        if (_hasPrevious[i])
        {
            var previousFast = _previousFast[i];
            var previousSlow = _previousSlow[i];
            var crossedUp = previousFast <= previousSlow && f > s;
            var crossedDown = previousFast >= previousSlow && f < s;
            // Most bars cross nothing: the warm-up flag is asked only when there is a signal to act on.
            if ((crossedUp || crossedDown) && !IsWarmingUp)
            {
                OnCross(i, crossedUp);
            }
        }

        _previousFast[i] = f;
        _previousSlow[i] = s;
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
