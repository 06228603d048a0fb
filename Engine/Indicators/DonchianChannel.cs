namespace Backtesting.Engine.Indicators;

/// <summary>
/// Donchian channel: Upper = highest high and Lower = lowest low of the last <see cref="Period"/> bars
/// given to <see cref="Update"/>.
/// </summary>
/// <remarks>
/// <para>Reading the channel of the PREVIOUS n bars (the usual breakout rule): read
/// <see cref="Upper"/>/<see cref="Lower"/> BEFORE calling <see cref="Update"/> with the current bar. At that
/// moment the channel covers exactly the n bars before the current one:</para>
/// <code>
/// if (channel.IsReady &amp;&amp; bar.Close &gt; channel.Upper) { /* breakout above the prior n bars */ }
/// channel.Update(bar.High, bar.Low);
/// </code>
/// <para>Reading after <see cref="Update"/> gives the channel including the current bar, against which a
/// close can never break out.</para>
/// <para>Each extreme is kept with a monotonic deque in preallocated ring arrays: O(1) amortized per bar,
/// no allocation.</para>
/// </remarks>
public sealed class DonchianChannel : IIndicator
{
    private readonly MonotonicMaxQueue _highs;
    // Lows are stored negated so one max-queue serves both: min(l) = −max(−l), exact in floating point.
    private readonly MonotonicMaxQueue _negatedLows;
    private long _bars;

    public DonchianChannel(int period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, 1);
        Period = period;
        _highs = new MonotonicMaxQueue(period);
        _negatedLows = new MonotonicMaxQueue(period);
    }

    public int Period { get; }

    public int WarmUpPeriod => Period;

    public bool IsReady => _bars >= Period;

    /// <summary>Highest high of the last <see cref="Period"/> updates; NaN until ready.</summary>
    public double Upper => IsReady ? _highs.Max : double.NaN;

    /// <summary>Lowest low of the last <see cref="Period"/> updates; NaN until ready.</summary>
    public double Lower => IsReady ? -_negatedLows.Max : double.NaN;

    /// <summary>(Upper + Lower) / 2; NaN until ready.</summary>
    public double Middle => (Upper + Lower) * 0.5;

    public void Update(double high, double low)
    {
        var index = _bars++;
        _highs.Push(index, high);
        _negatedLows.Push(index, -low);
    }

    public void Reset()
    {
        _bars = 0;
        _highs.Clear();
        _negatedLows.Clear();
    }

    /// <summary>
    /// Sliding-window maximum: a deque of (index, value) with values strictly decreasing from front to
    /// back, in a ring of capacity = window length.
    /// </summary>
    private sealed class MonotonicMaxQueue(int window)
    {
        private readonly double[] _values = new double[window];
        private readonly long[] _indices = new long[window];
        private int _head;
        private int _count;

        public double Max => _values[_head];

        public void Push(long index, double value)
        {
            // Evict the front if it left the window. Indices grow by one per push, so at most one expires;
            // evicting first keeps at most window − 1 entries, leaving room for the push.
            if (_count > 0 && _indices[_head] <= index - window)
            {
                if (++_head == window)
                {
                    _head = 0;
                }

                _count--;
            }

            // Drop entries the new value dominates: they can never be the maximum again.
            while (_count > 0)
            {
                var back = _head + _count - 1;
                if (back >= window)
                {
                    back -= window;
                }

                if (_values[back] > value)
                {
                    break;
                }

                _count--;
            }

            var slot = _head + _count;
            if (slot >= window)
            {
                slot -= window;
            }

            _values[slot] = value;
            _indices[slot] = index;
            _count++;
        }

        public void Clear()
        {
            _head = 0;
            _count = 0;
        }
    }
}
