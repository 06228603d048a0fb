using System.Text;
using System.Text.Json;

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

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    /// <summary>The manifest, or null when the bytes are not one.</summary>
    public static BarCacheManifest? Parse(byte[] utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<BarCacheManifest>(utf8, Options) is { Sources: not null, InstrumentId: not null, Rules: not null } m
                ? m
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

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
