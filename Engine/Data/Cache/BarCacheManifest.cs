using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Backtesting.Engine.Data.Cache;

/// <summary>One file an entry was built from: its path relative to the data folder, its size, its modification time
/// (UTC ticks), the SHA-256 of its content, computed once when the entry was built, and the one local day of bars
/// it holds (a minute zip), or null when it shapes every day.</summary>
public sealed record BarCacheSource(string Path, long Size, long ModifiedUtcTicks, string Sha256, DateOnly? Day = null)
{
    /// <summary>Whether the file shapes any bar of local days [first, last].</summary>
    public bool Covers(DateOnly first, DateOnly last) => Day is not { } day || (day >= first && day <= last);
}

/// <summary>
/// What a cache entry was built from and for: the instrument, resolution and effective adjustment, the builder's
/// version, the rules that shape the output beyond the files (the time zones' fingerprint), and every source file
/// (the data files, the factor file when prices are adjusted, the market-hours database). An entry is valid for a
/// range of local days while the files that shape those days are as listed.
/// </summary>
public sealed record BarCacheManifest(
    int FormatVersion,
    int BuilderVersion,
    string InstrumentId,
    Resolution Resolution,
    PriceAdjustment Adjustment,
    string Rules,
    IReadOnlyList<BarCacheSource> Sources,
    string BuildId)
{
    /// <summary>Bumped whenever the LEAN readers change what they yield for the same files: every entry is rebuilt.</summary>
    public const int CurrentBuilderVersion = 1;

    /// <summary>The manifest's bytes in an entry (little-endian): the format and builder versions, the instrument id,
    /// resolution, adjustment, rules and build id, then the count of sources and each source's path, size, modification
    /// time, SHA-256 (hex) and local day (its day number, or -1 when it shapes every day). Strings are a 32-bit byte
    /// length and UTF-8. Binary, not JSON: a warm open parses a decade's 2,517 sources with no serializer to start up.</summary>
    public byte[] ToBytes()
    {
        var writer = new ArrayBufferWriter<byte>(256 + (Sources.Count * 128));
        Int(writer, FormatVersion);
        Int(writer, BuilderVersion);
        Text(writer, InstrumentId);
        Int(writer, (int)Resolution);
        Int(writer, (int)Adjustment);
        Text(writer, Rules);
        Text(writer, BuildId);
        Int(writer, Sources.Count);
        foreach (var source in Sources)
        {
            Text(writer, source.Path);
            Long(writer, source.Size);
            Long(writer, source.ModifiedUtcTicks);
            Text(writer, source.Sha256);
            Int(writer, source.Day is { } day ? day.DayNumber : -1);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>The manifest, or null when the bytes are not one (short, overlong, a bad length or day).</summary>
    public static BarCacheManifest? Parse(byte[] bytes)
    {
        var reader = new Reader(bytes);
        var formatVersion = reader.Int();
        var builderVersion = reader.Int();
        var instrumentId = reader.Text();
        var resolution = (Resolution)reader.Int();
        var adjustment = (PriceAdjustment)reader.Int();
        var rules = reader.Text();
        var buildId = reader.Text();
        var count = reader.Int();
        // Each source takes at least 28 bytes: a count beyond what is left is damage, not an allocation to make.
        if (instrumentId is null || rules is null || buildId is null || count < 0 || count > reader.Left / 28)
            return null;
        var sources = new BarCacheSource[count];
        for (var i = 0; i < count; i++)
        {
            var path = reader.Text();
            var size = reader.Long();
            var modified = reader.Long();
            var sha = reader.Text();
            var day = reader.Int();
            if (path is null || sha is null || day < -1 || day > DateOnly.MaxValue.DayNumber)
                return null;
            sources[i] = new BarCacheSource(path, size, modified, sha, day < 0 ? null : DateOnly.FromDayNumber(day));
        }

        return reader.Failed || reader.Left != 0
            ? null
            : new BarCacheManifest(formatVersion, builderVersion, instrumentId, resolution, adjustment, rules, sources, buildId);
    }

    private static void Int(ArrayBufferWriter<byte> writer, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(writer.GetSpan(4), value);
        writer.Advance(4);
    }

    private static void Long(ArrayBufferWriter<byte> writer, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(writer.GetSpan(8), value);
        writer.Advance(8);
    }

    private static void Text(ArrayBufferWriter<byte> writer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Int(writer, length);
        writer.Advance(Encoding.UTF8.GetBytes(value, writer.GetSpan(length)));
    }

    /// <summary>Reads the fields in order; past the end (or on a bad length) it fails and every later read is empty.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public bool Failed { get; private set; }

        public readonly int Left => _rest.Length;

        public int Int() => Take(4) is { Length: 4 } b ? BinaryPrimitives.ReadInt32LittleEndian(b) : 0;

        public long Long() => Take(8) is { Length: 8 } b ? BinaryPrimitives.ReadInt64LittleEndian(b) : 0;

        public string? Text()
        {
            var length = Int();
            if (length < 0 || length > _rest.Length)
            {
                Failed = true;
                return null;
            }

            try
            {
                return Strict.GetString(Take(length));
            }
            catch (DecoderFallbackException)
            {
                Failed = true;
                return null;
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (Failed || count > _rest.Length)
            {
                Failed = true;
                return default;
            }

            var taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Why this manifest does not describe an entry built now from <paramref name="expected"/> (the sources
    /// that shape local days [first, last], in the request's order) for those days, or null when it does.</summary>
    public string? Mismatch(BarCacheManifest expected, DateOnly first, DateOnly last)
    {
        if (FormatVersion != expected.FormatVersion || BuilderVersion != expected.BuilderVersion)
            return "built by another version";
        if (InstrumentId != expected.InstrumentId || Resolution != expected.Resolution || Adjustment != expected.Adjustment)
            return "built for another request";
        if (Rules != expected.Rules)
            return "the time-zone rules changed";
        var listed = Sources.Where(s => s.Covers(first, last)).ToList();
        if (listed.Count != expected.Sources.Count)
            return $"{listed.Count} source files listed for the range, {expected.Sources.Count} now";
        for (var i = 0; i < listed.Count; i++)
        {
            var (was, now) = (listed[i], expected.Sources[i]);
            if (was.Path != now.Path || was.Day != now.Day)
                return $"source {now.Path} is not the one listed ({was.Path})";
            if (was.Size != now.Size || was.ModifiedUtcTicks != now.ModifiedUtcTicks)
                return $"source {now.Path} changed";
        }

        return null;
    }

    /// <summary>
    /// A fingerprint of the time-zone rules the readers convert with: the system's tz data can change an entry's UTC
    /// times without any data file changing.
    /// </summary>
    public static string RulesOf(params IEnumerable<TimeZoneInfo> zones)
    {
        var text = new StringBuilder();
        foreach (var zone in zones)
        {
            text.Append(zone.Id).Append('|').Append(zone.BaseUtcOffset.Ticks);
            foreach (var rule in zone.GetAdjustmentRules())
            {
                text.Append('|').Append(rule.DateStart.Ticks).Append(',').Append(rule.DateEnd.Ticks).Append(',')
                    .Append(rule.DaylightDelta.Ticks).Append(',').Append(rule.BaseUtcOffsetDelta.Ticks).Append(',')
                    .Append(Describe(rule.DaylightTransitionStart)).Append(',').Append(Describe(rule.DaylightTransitionEnd));
            }

            text.Append(';');
        }

        return Convert.ToHexStringLower(System.IO.Hashing.XxHash3.Hash(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static string Describe(TimeZoneInfo.TransitionTime t) =>
        $"{t.IsFixedDateRule}:{t.Month}:{t.Week}:{t.Day}:{(int)t.DayOfWeek}:{t.TimeOfDay.Ticks}";
}
