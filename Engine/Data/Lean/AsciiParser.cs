using System.Globalization;
using System.Text;

namespace Backtesting.Engine.Data.Lean;

/// <summary>
/// Parsers for the ASCII bytes of data files. They work on spans so the readers' hot loops
/// allocate nothing per line; only error paths build strings.
/// </summary>
internal static class AsciiParser
{
    private static readonly double[] PowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    // Below 2^53 a long converts to double exactly, so one division by an exact power of ten is
    // correctly rounded: the fast path gives the same double as double.Parse.
    private const long ExactMantissaLimit = 1L << 53;

    public static bool TryParseLong(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        var i = 0;
        var negative = false;
        if (text.Length > 0 && text[0] == (byte)'-')
        {
            negative = true;
            i = 1;
        }
        if (i == text.Length || text.Length - i > 18)
            return false;
        long result = 0;
        for (; i < text.Length; i++)
        {
            var digit = (uint)(text[i] - '0');
            if (digit > 9)
                return false;
            result = (result * 10) + digit;
        }
        value = negative ? -result : result;
        return true;
    }

    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        var i = 0;
        var negative = false;
        if (text.Length > 0 && (text[0] == (byte)'-' || text[0] == (byte)'+'))
        {
            negative = text[0] == (byte)'-';
            i = 1;
        }
        long mantissa = 0;
        var digits = 0;
        var fractionDigits = 0;
        var seenPoint = false;
        var anyDigit = false;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            var digit = (uint)(c - '0');
            if (digit <= 9)
            {
                anyDigit = true;
                if (digits == 18)
                    return SlowParse(text, out value);
                mantissa = (mantissa * 10) + digit;
                if (mantissa != 0)
                    digits++;
                if (seenPoint)
                    fractionDigits++;
            }
            else if (c == (byte)'.' && !seenPoint)
            {
                seenPoint = true;
            }
            else
            {
                // Exponents and anything unusual go to the framework parser.
                return SlowParse(text, out value);
            }
        }
        if (!anyDigit)
        {
            value = 0;
            return false;
        }
        if (mantissa >= ExactMantissaLimit || fractionDigits >= PowersOfTen.Length)
            return SlowParse(text, out value);
        var result = fractionDigits == 0 ? mantissa : mantissa / PowersOfTen[fractionDigits];
        value = negative ? -result : result;
        return true;
    }

    private static bool SlowParse(ReadOnlySpan<byte> text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>Parses <c>YYYYMMDD</c> or <c>YYYYMMDD HH:MM</c> (LEAN's bar time stamps).</summary>
    public static bool TryParseDateTime(ReadOnlySpan<byte> text, out DateOnly date, out long ticksOfDay)
    {
        date = default;
        ticksOfDay = 0;
        if (text.Length != 8 && text.Length != 14)
            return false;
        if (!TryDigits(text[..4], out var year) || !TryDigits(text[4..6], out var month) || !TryDigits(text[6..8], out var day))
            return false;
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year is >= 1 and <= 9999 ? year : 1, month))
            return false;
        date = new DateOnly(year, month, day);
        if (text.Length == 14)
        {
            if (text[8] != (byte)' ' || text[11] != (byte)':')
                return false;
            if (!TryDigits(text[9..11], out var hour) || !TryDigits(text[12..14], out var minute) || hour > 23 || minute > 59)
                return false;
            ticksOfDay = (hour * TimeSpan.TicksPerHour) + (minute * TimeSpan.TicksPerMinute);
        }
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        foreach (var c in text)
        {
            var digit = (uint)(c - '0');
            if (digit > 9)
                return false;
            value = (value * 10) + (int)digit;
        }
        return true;
    }

    public static string Show(ReadOnlySpan<byte> text) =>
        Encoding.ASCII.GetString(text.Length > 40 ? text[..40] : text);
}

/// <summary>Walks the comma-separated fields of one line; errors name the 1-based column.</summary>
internal ref struct CsvFields(ReadOnlySpan<byte> line)
{
    private ReadOnlySpan<byte> _rest = line;
    private bool _exhausted;
    private int _column;

    public readonly int Column => _column;

    public ReadOnlySpan<byte> Next()
    {
        if (_exhausted)
            throw new FormatException($"column {_column + 1}: missing");
        _column++;
        var comma = _rest.IndexOf((byte)',');
        ReadOnlySpan<byte> field;
        if (comma < 0)
        {
            field = _rest;
            _rest = default;
            _exhausted = true;
        }
        else
        {
            field = _rest[..comma];
            _rest = _rest[(comma + 1)..];
        }
        return field;
    }

    public void Skip() => Next();

    public long NextLong()
    {
        var field = Next();
        return AsciiParser.TryParseLong(field, out var value) ? value : throw NotANumber(field);
    }

    public double NextDouble()
    {
        var field = Next();
        return AsciiParser.TryParseDouble(field, out var value) ? value : throw NotANumber(field);
    }

    /// <summary>A number, or 0 for an empty field (LEAN leaves a missing quote side empty).</summary>
    public double NextDoubleOrZero()
    {
        var field = Next();
        if (field.IsEmpty)
            return 0;
        return AsciiParser.TryParseDouble(field, out var value) ? value : throw NotANumber(field);
    }

    public (DateOnly Date, long TicksOfDay) NextDateTime()
    {
        var field = Next();
        return AsciiParser.TryParseDateTime(field, out var date, out var ticks)
            ? (date, ticks)
            : throw new FormatException($"column {_column}: '{AsciiParser.Show(field)}' is not a YYYYMMDD HH:MM time");
    }

    private readonly FormatException NotANumber(ReadOnlySpan<byte> field) =>
        new($"column {_column}: '{AsciiParser.Show(field)}' is not a number");
}
