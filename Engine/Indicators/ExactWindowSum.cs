using System.Runtime.CompilerServices;

namespace Backtesting.Engine.Indicators;

/// <summary>
/// The sum of a sliding window of prices, kept in integers so that it is exact: adding and removing the same values
/// returns bitwise to the same sum, and the mean of a window depends only on the values in it, never on their order
/// or on the values that passed through before.
/// </summary>
/// <remarks>
/// <para>Prices on a decimal grid (cents, LEAN's 1/10000 units, FX pips: at most <see cref="MaxDecimals"/> decimals)
/// are summed as whole units of the finest grid seen so far (a <see cref="long"/>). The mean is then that integer
/// sum divided once by n·10^k, both exact doubles, so it is the correctly rounded value of the exact decimal mean:
/// two windows whose exact means are equal (a 10-bar and a 30-bar average both at 167.206) give bitwise-equal
/// doubles, and a strict comparison between them sees a tie, not rounding noise.</para>
/// <para>A value on no such grid (adjusted or synthetic prices) moves the sum to binary fixed point: whole units of
/// 2^-s, with s chosen from the window's largest magnitude so a full window's sum fits a <see cref="long"/> with room
/// to spare (about 50 significant bits per value for a 1000-bar window). Each value's conversion is a fixed,
/// deterministic truncation, so the sum is still exact and order-free; the mean is it rounded once to double and
/// divided by n.</para>
/// <para>Moving to a finer grid or to binary recomputes the sum from the window (O(n)); a binary sum is recomputed
/// once every turn of the window, on a decimal grid when every value in it is on one again, else on a binary scale
/// fitted to the values now in it: amortized O(1), no allocation. On a decimal grid the mean of a window depends on
/// its values alone. In binary fixed point the truncation depends on the scale, which follows the window's largest
/// magnitude (a power of two), so a window's mean can differ in the last place with what came before; comparisons
/// go through <see cref="PriceComparison"/>, whose tie tolerance covers that.</para>
/// </remarks>
internal sealed class ExactWindowSum
{
    /// <summary>The finest decimal grid kept in whole units: 10^-8.</summary>
    public const int MaxDecimals = 8;

    private const int Binary = -1;
    private const double TwoToThe53 = 9007199254740992.0;
    private const double TwoToThe62 = 4611686018427387904.0;

    private static readonly double[] Pow10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

    private readonly double[] _window;
    // Each value in whole units of the current grid, so the oldest leaves the sum exactly as it came in.
    private readonly long[] _units;
    // Largest |value in units| on a decimal grid: a full window's sum stays below 2^53, so it converts to double exactly.
    private readonly double _maxDecimalUnits;
    // Largest |value in units| in binary fixed point: a full window's sum stays below 2^62.
    private readonly double _maxBinaryUnits;
    private int _count;
    private int _oldest;
    private int _decimals;
    private double _scale = 1;
    // 1 / _scale in binary fixed point (a power of two, so multiplying by it is exact).
    private double _inverseScale = 1;
    private long _sum;

    public ExactWindowSum(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        _window = new double[period];
        _units = new long[period];
        _maxDecimalUnits = Math.Floor((TwoToThe53 - 1) / period);
        _maxBinaryUnits = Math.Floor(TwoToThe62 / period);
    }

    public int Period => _window.Length;

    public bool IsFull => _count == _window.Length;

    /// <summary>Mean of the window: the exact sum rounded once (NaN when empty).</summary>
    public double Mean
    {
        get
        {
            var n = _count;
            if (n == 0)
            {
                return double.NaN;
            }

            return _decimals == Binary ? _sum * _inverseScale / n : _sum / (n * _scale);
        }
    }

    /// <summary>Adds a value, dropping the oldest when the window is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double value)
    {
        int slot;
        long old = 0;
        if (_count < _window.Length)
        {
            slot = _count++;
        }
        else
        {
            slot = _oldest;
            old = _units[slot];
            if (++_oldest == _window.Length)
            {
                _oldest = 0;
            }
        }

        _window[slot] = value;
        if (TryUnits(value, out var units))
        {
            _units[slot] = units;
            _sum += units - old;
            if (_decimals == Binary && _oldest == 0 && IsFull)
            {
                // Once a turn of the window: back to a decimal grid when every value in it is on one again, else a
                // binary scale fitted to the values now in it (a level that fell keeps its precision).
                Rebuild(sumIsCurrent: true);
            }

            return;
        }

        // The value did not fit: its units are not in the sum yet, nor are the oldest value's out of it.
        Rebuild(sumIsCurrent: false);
    }

    public void Clear()
    {
        _count = 0;
        _oldest = 0;
        _decimals = 0;
        _scale = 1;
        _inverseScale = 1;
        _sum = 0;
    }

    /// <summary>The value in whole units of the current grid; false when it is off the grid or too large for it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryUnits(double value, out long units)
    {
        if (_decimals == Binary)
        {
            var scaled = value * _scale;
            units = (long)scaled;
            return Math.Abs(scaled) <= _maxBinaryUnits;
        }

        var rounded = Math.Round(value * _scale);
        units = (long)rounded;
        return rounded / _scale == value && Math.Abs(rounded) <= _maxDecimalUnits;
    }

    /// <summary>Recomputes the sum of the window on the coarsest grid that holds it, else in binary fixed point.</summary>
    /// <param name="sumIsCurrent">The running sum and units hold every value of the window at the current grid.</param>
    private void Rebuild(bool sumIsCurrent)
    {
        if (TryDecimal(_decimals == Binary ? 0 : _decimals))
        {
            return;
        }

        // Binary: the largest power of two that leaves a quarter of the room to values up to four times the largest.
        var largest = 0.0;
        for (var i = 0; i < _count; i++)
        {
            largest = Math.Max(largest, Math.Abs(_window[i]));
        }

        var exponent = largest > 0 ? Math.Clamp(Math.ILogB(_maxBinaryUnits / 4 / largest), -1000, 1000) : 0;
        var scale = Math.ScaleB(1, exponent);
        if (sumIsCurrent && _decimals == Binary && scale == _scale)
        {
            // Still the scale every value in the window was converted at: the running sum is already exactly the sum
            // of their units (integers, added and removed exactly), so recomputing it would give the same integer.
            return;
        }

        _decimals = Binary;
        (_scale, _inverseScale) = (scale, Math.ScaleB(1, -exponent));
        SumUnits(); // every value fits the scale just chosen
    }

    /// <summary>Moves the sum to the coarsest decimal grid from <paramref name="from"/> decimals that holds the window.</summary>
    private bool TryDecimal(int from)
    {
        var saved = (_decimals, _scale);
        for (var decimals = from; decimals <= MaxDecimals; decimals++)
        {
            (_decimals, _scale) = (decimals, Pow10[decimals]);
            if (Resum())
            {
                return true;
            }
        }

        (_decimals, _scale) = saved;
        return false;
    }

    /// <summary>Converts every value of the window to the current grid and sums; false, changing nothing, when one does not fit.</summary>
    private bool Resum()
    {
        for (var i = 0; i < _count; i++)
        {
            if (!TryUnits(_window[i], out _))
            {
                return false;
            }
        }

        SumUnits();
        return true;
    }

    /// <summary>Converts every value of the window to whole units of the current grid, which must hold them, and sums them.</summary>
    private void SumUnits()
    {
        long sum = 0;
        for (var i = 0; i < _count; i++)
        {
            TryUnits(_window[i], out var units);
            _units[i] = units;
            sum += units;
        }

        _sum = sum;
    }
}
