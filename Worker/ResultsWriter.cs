using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Results;

namespace Backtesting.Worker;

/// <summary>
/// Writes results.json as a stream: one serializer call fills a pooled block buffer that is flushed to a temporary
/// file whenever it is nearly full, then the file is synced and renamed over the target, so a reader sees either no
/// results or all of them. Nothing document-sized is held in memory (the old path built the whole document as one
/// byte array, about twice its size at the peak), and the orders and fills are read from the engine's records as
/// they are written. The bytes are those of <c>JsonSerializer.SerializeToUtf8Bytes(result, JsonDefaults.Options)</c>.
/// </summary>
public static class ResultsWriter
{
    /// <summary>The serializer's block: it flushes to the file when a block is about nine tenths full.</summary>
    public const int BlockBytes = 64 * 1024;

    // The project's JSON options with a bigger block; a buffer size changes when bytes are flushed, never which.
    private static readonly JsonSerializerOptions Streaming = new(JsonDefaults.Options) { DefaultBufferSize = BlockBytes };

    public static void Write(string path, BacktestResult result)
    {
        var temporary = path + ".tmp";
        // No FileStream buffer of its own: the serializer's block is the buffer, written straight through.
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            JsonSerializer.Serialize(stream, result, Streaming);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
