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
/// <para>A value on no such grid (adjusted or synthetic prices) moves the sum, for good, to a binary fixed-point
/// <see cref="Int128"/> in units of 2^-64: still exact for every double of magnitude at least 2^-12, and a
/// fixed, deterministic truncation below. The mean is then the exact sum rounded once to double and divided by n.</para>
/// <para>Moving to a finer grid or to binary recomputes the sum from the window (O(n), at most
/// <see cref="MaxDecimals"/> + 1 times); a binary sum tries the decimal grids again once every turn of the window, so
/// it comes back to them at most one window length after the last off-grid value left: amortized O(1), no
/// allocation. The mean of one window is therefore the same double whatever came before, except within that one
/// window length after an off-grid value, where it can differ in the last place (the binary rounding); comparisons
/// go through <see cref="PriceComparison"/>, whose tie tolerance covers that.</para>
/// </remarks>
internal sealed class ExactWindowSum
{
    /// <summary>The finest decimal grid kept in whole units: 10^-8.</summary>
    public const int MaxDecimals = 8;

    private const int Binary = -1;
    private const double TwoToThe64 = 18446744073709551616.0;
    private const double TwoToTheMinus64 = 1.0 / TwoToThe64;

    private static readonly double[] Pow10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

    private readonly double[] _window;
    // Largest |value in units| that keeps a full window's sum below 2^53, so it converts to double exactly.
    private readonly double _maxUnits;
    private int _count;
    private int _oldest;
    private int _decimals;
    private long _units;
    private Int128 _fixed;

    public ExactWindowSum(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        _window = new double[period];
        _maxUnits = Math.Floor(9007199254740991.0 / period);
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

            return _decimals == Binary
                ? (double)_fixed * TwoToTheMinus64 / n
                : _units / (n * Pow10[_decimals]);
        }
    }

    /// <summary>Adds a value, dropping the oldest when the window is full.</summary>
    public void Add(double value)
    {
        if (_count < _window.Length)
        {
            _window[_count++] = value;
            Include(value, _count);
            return;
        }

        var old = _window[_oldest];
        _window[_oldest] = value;
        if (++_oldest == _window.Length)
        {
            _oldest = 0;
        }

        if (_decimals == Binary)
        {
            _fixed += ToFixed(value) - ToFixed(old);
            if (_oldest == 0)
            {
                // Once a turn of the window: back to a decimal grid when every value in it is on one again.
                TryDecimal(_count, 0);
            }

            return;
        }

        // The old value was on the grid when it came in, and the grid only gets finer: it converts exactly.
        var scale = Pow10[_decimals];
        var units = Math.Round(value * scale);
        if (units / scale == value && Math.Abs(units) <= _maxUnits)
        {
            _units += (long)units - (long)Math.Round(old * scale);
            return;
        }

        Rebuild(_count);
    }

    public void Clear()
    {
        _count = 0;
        _oldest = 0;
        _decimals = 0;
        _units = 0;
        _fixed = Int128.Zero;
    }

    /// <summary>Adds the value just stored as the <paramref name="count"/>-th of a window still filling.</summary>
    private void Include(double value, int count)
    {
        if (_decimals == Binary)
        {
            _fixed += ToFixed(value);
            return;
        }

        var scale = Pow10[_decimals];
        var units = Math.Round(value * scale);
        if (units / scale == value && Math.Abs(units) <= _maxUnits)
        {
            _units += (long)units;
            return;
        }

        Rebuild(count);
    }

    /// <summary>Recomputes the sum of the first <paramref name="count"/> slots on the coarsest grid that holds them all.</summary>
    private void Rebuild(int count)
    {
        if (TryDecimal(count, _decimals))
        {
            return;
        }

        _decimals = Binary;
        _fixed = Int128.Zero;
        for (var i = 0; i < count; i++)
        {
            _fixed += ToFixed(_window[i]);
        }
    }

    /// <summary>Moves the sum to the coarsest decimal grid from <paramref name="from"/> decimals that holds the window.</summary>
    private bool TryDecimal(int count, int from)
    {
        for (var decimals = from; decimals <= MaxDecimals; decimals++)
        {
            if (TrySum(count, decimals, out var units))
            {
                _decimals = decimals;
                _units = units;
                return true;
            }
        }

        return false;
    }

    private bool TrySum(int count, int decimals, out long sum)
    {
        var scale = Pow10[decimals];
        sum = 0;
        for (var i = 0; i < count; i++)
        {
            var units = Math.Round(_window[i] * scale);
            if (units / scale != _window[i] || Math.Abs(units) > _maxUnits)
            {
                return false;
            }

            sum += (long)units;
        }

        return true;
    }

    /// <summary>The value in units of 2^-64 (exact: scaling by a power of two, then a conversion of an integer).</summary>
    private static Int128 ToFixed(double value) => (Int128)(value * TwoToThe64);
}
