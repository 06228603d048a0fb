using System.Text;

namespace Backtesting.Grains.Protocol;

/// <summary>
/// Splits a worker's byte stream into lines, across chunk boundaries, never holding more than
/// <c>maxLineBytes</c> of one line. A newline byte never occurs inside a UTF-8 sequence, so lines are cut on bytes
/// and decoded whole (invalid UTF-8 becomes U+FFFD, which the protocol's reader refuses).
/// </summary>
/// <param name="maxLineBytes">The longest line kept, without its newline.</param>
/// <param name="onLine">Receives each line, without its line ending.</param>
/// <param name="onOverflow">
/// Called once when a line passes the limit; from then on the splitter drops everything (the run is over). Null: a
/// long line is cut at the limit and the rest of it dropped (for stderr, which only people read).
/// </param>
public sealed class BoundedLineSplitter(int maxLineBytes, Action<string> onLine, Action<int>? onOverflow = null)
{
    private byte[] _line = new byte[Math.Min(maxLineBytes, 4096)];
    private int _length;
    private bool _skippingRest;

    /// <summary>A line passed the limit and the splitter has stopped (only with an overflow callback).</summary>
    public bool Overflowed { get; private set; }

    public void Add(ReadOnlySpan<byte> chunk)
    {
        while (!Overflowed && chunk.Length > 0)
        {
            var newline = chunk.IndexOf((byte)'\n');
            var part = newline < 0 ? chunk : chunk[..newline];
            Append(part);
            if (newline < 0 || Overflowed)
            {
                return;
            }

            EndLine();
            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>Hands on the last line when the stream ended without a newline.</summary>
    public void Flush()
    {
        if (!Overflowed && (_length > 0 || _skippingRest))
        {
            EndLine();
        }
    }

    private void Append(ReadOnlySpan<byte> part)
    {
        if (_skippingRest)
        {
            return;
        }

        if (_length + part.Length > maxLineBytes)
        {
            if (onOverflow is not null)
            {
                Overflowed = true;
                _line = [];
                _length = 0;
                onOverflow(maxLineBytes);
                return;
            }

            part = part[..(maxLineBytes - _length)];
            _skippingRest = true;
        }

        if (_length + part.Length > _line.Length)
        {
            Array.Resize(ref _line, Math.Min(maxLineBytes, Math.Max(_line.Length * 2, _length + part.Length)));
        }

        part.CopyTo(_line.AsSpan(_length));
        _length += part.Length;
    }

    private void EndLine()
    {
        var length = _length > 0 && _line[_length - 1] == (byte)'\r' ? _length - 1 : _length;
        onLine(Encoding.UTF8.GetString(_line, 0, length));
        _length = 0;
        _skippingRest = false;
    }
}

/// <summary>The worker broke the protocol in a way that ends its run (a line over the limit, invalid results).</summary>
public sealed class WorkerProtocolException(string message) : Exception(message)
{
    /// <summary>A line passed Backtesting:MaxProtocolLineBytes (or the output had no newline for that long).</summary>
    public static WorkerProtocolException LineTooLong(int limit) => new(
        $"the worker printed a line longer than {limit} bytes (Backtesting:MaxProtocolLineBytes): the protocol's lines are bounded, so the run was ended");
}
