using System.Security.Cryptography;
using System.Text;

namespace Backtesting.Storage;

/// <summary>Name-based UUIDs (RFC 9562 version 5: SHA-1 of a namespace UUID and a name).</summary>
public static class DeterministicGuid
{
    /// <summary>The id of trade number <paramref name="tradeNumber"/> of a backtest: the same inputs always give the same id.</summary>
    public static Guid ForTrade(Guid backtestId, int tradeNumber) => Create(backtestId, $"trade:{tradeNumber}");

    public static Guid Create(Guid namespaceId, string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[16 + nameBytes.Length];
        namespaceId.TryWriteBytes(input, bigEndian: true, out _);
        nameBytes.CopyTo(input, 16);

        Span<byte> hash = stackalloc byte[20];
#pragma warning disable CA5350 // Version 5 UUIDs are defined on SHA-1; this is naming, not security.
        SHA1.HashData(input, hash);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(hash[..16], bigEndian: true);
    }
}
