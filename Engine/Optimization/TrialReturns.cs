using System.Buffers;
using System.Buffers.Binary;

namespace Backtesting.Engine.Optimization;

/// <summary>
/// The layout of <c>trial-returns.bin</c>, the matrix of trial returns the overfitting statistics read: a sequence of
/// records, each <c>int32 trial</c>, <c>int32 count</c>, then <c>count</c> daily returns as <c>float32</c>, all
/// little-endian, in the order the trials finished. A record is complete or, at the end of a file whose writer was
/// killed, torn; readers stop before a torn record.
/// </summary>
public static class TrialReturns
{
    public const int HeaderBytes = 8;

    /// <summary>Most returns one record may hold (a century of daily returns and then some); a larger count is corruption.</summary>
    public const int MaxCount = 100_000;

    public static void Write(Stream stream, int trial, IReadOnlyList<double> returns)
    {
        // A record per trial, thousands a batch: the bytes go through a pooled buffer the stream has copied before it returns.
        var length = HeaderBytes + 4 * returns.Count;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var bytes = rented.AsSpan(0, length);
            BinaryPrimitives.WriteInt32LittleEndian(bytes, trial);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[4..], returns.Count);
            for (var i = 0; i < returns.Count; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes[(HeaderBytes + 4 * i)..], (float)returns[i]);
            }

            stream.Write(bytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>One record and where it ends in the stream.</summary>
    public readonly record struct Record(int Trial, float[] Returns, long End);

    /// <summary>Every complete record from the stream's position on; stops at the end, a torn record or a corrupt header.</summary>
    public static IEnumerable<Record> Read(Stream stream)
    {
        var header = new byte[HeaderBytes];
        var position = stream.Position;
        while (true)
        {
            if (stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
            {
                yield break;
            }

            var trial = BinaryPrimitives.ReadInt32LittleEndian(header);
            var count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
            if (trial < 0 || count < 0 || count > MaxCount)
            {
                yield break;
            }

            var body = new byte[4 * count];
            if (stream.ReadAtLeast(body, body.Length, throwOnEndOfStream: false) < body.Length)
            {
                yield break;
            }

            var returns = new float[count];
            for (var i = 0; i < count; i++)
            {
                returns[i] = BinaryPrimitives.ReadSingleLittleEndian(body.AsSpan(4 * i));
            }

            position += HeaderBytes + body.Length;
            yield return new Record(trial, returns, position);
        }
    }
}
