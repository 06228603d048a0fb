using Backtesting.Engine.Data;
using Backtesting.Engine.Indicators;

namespace Backtesting.Engine.Strategies.Templates;

/// <summary>
/// Goes long when the fast moving average crosses above the slow one and exits when it crosses back
/// below; with allowShort it also goes short on the downward cross. A cross needs both averages ready on
/// the previous bar too: fast ≤ slow before and fast &gt; slow now is an upward cross, where equal averages
/// (within <see cref="PriceComparison"/>'s tie tolerance) are a tie, never a cross.
/// </summary>
public sealed class MovingAverageCross : Strategy
{
    // One object per instrument holding both averages and the previous bar's values: OnBar runs for every bar,
    // and one array lookup is cheaper than five. Concrete Sma/Ema types, not a shared moving-average interface,
    // so the calls inline.
    private SmaLeg[] _smaLegs = [];
    private EmaLeg[] _emaLegs = [];
    private bool _useEma;

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
            _emaLegs = Enumerable.Range(0, n).Select(_ => new EmaLeg(FastPeriod, SlowPeriod)).ToArray();
        }
        else
        {
            _smaLegs = Enumerable.Range(0, n).Select(_ => new SmaLeg(FastPeriod, SlowPeriod)).ToArray();
        }
    }

    public override void OnBar(in MarketData bar)
    {
        var i = bar.Instrument;
        double f, s;
        Leg leg;
        // Two near-identical branches on purpose: see the fields above.
        if (_useEma)
        {
            var ema = _emaLegs[i];
            ema.Fast.Update(bar.Close);
            ema.Slow.Update(bar.Close);
            if (!ema.Fast.IsReady || !ema.Slow.IsReady)
            {
                return;
            }

            f = ema.Fast.Value;
            s = ema.Slow.Value;
            leg = ema;
        }
        else
        {
            var sma = _smaLegs[i];
            sma.Fast.Update(bar.Close);
            sma.Slow.Update(bar.Close);
            if (!sma.Fast.IsReady || !sma.Slow.IsReady)
            {
                return;
            }

            f = sma.Fast.Value;
            s = sma.Slow.Value;
            leg = sma;
        }

        if (leg.HasPrevious)
        {
            // Strict crosses under the one tie rule: equal averages (a tie) are neither above nor below.
            var crossedUp = !PriceComparison.IsAbove(leg.PreviousFast, leg.PreviousSlow) && PriceComparison.IsAbove(f, s);
            var crossedDown = !PriceComparison.IsBelow(leg.PreviousFast, leg.PreviousSlow) && PriceComparison.IsBelow(f, s);
            // Most bars cross nothing: the warm-up flag is asked only when there is a signal to act on.
            if ((crossedUp || crossedDown) && !IsWarmingUp)
            {
                OnCross(i, crossedUp);
            }
        }

        leg.PreviousFast = f;
        leg.PreviousSlow = s;
        leg.HasPrevious = true;
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

    private class Leg
    {
        public double PreviousFast;
        public double PreviousSlow;
        public bool HasPrevious;
    }

    private sealed class SmaLeg(int fast, int slow) : Leg
    {
        public readonly Sma Fast = new(fast);
        public readonly Sma Slow = new(slow);
    }

    private sealed class EmaLeg(int fast, int slow) : Leg
    {
        public readonly Ema Fast = new(fast);
        public readonly Ema Slow = new(slow);
    }
}
