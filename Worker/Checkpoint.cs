using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;

namespace Backtesting.Worker;

/// <summary>
/// Where a run had got to. Resuming replays the deterministic engine silently up to
/// <see cref="ProcessedPoints"/> (fast: the engine does tens of millions of bars a second) and checks the
/// state there against this record before reporting again. Replay makes the resumed run's results
/// identical to an uninterrupted one by construction, for any strategy, without serializing strategy state.
/// </summary>
public sealed record Checkpoint(
    string ContentHash,
    long ProcessedPoints,
    int TradesClosed,
    double Equity,
    double Cash)
{
    public void Save(string directory) =>
        AtomicFile.Write(Path.Combine(directory, WorkerFiles.Checkpoint), JsonSerializer.SerializeToUtf8Bytes(this, JsonDefaults.Options));

    public static Checkpoint? Load(string directory)
    {
        var path = Path.Combine(directory, WorkerFiles.Checkpoint);
        return File.Exists(path) ? JsonSerializer.Deserialize<Checkpoint>(File.ReadAllBytes(path), JsonDefaults.Options) : null;
    }

    /// <summary>Same state as recorded: equal counts and equity/cash equal to the last bit of a decimal print.</summary>
    public bool Matches(long processed, int trades, double equity, double cash) =>
        processed == ProcessedPoints && trades == TradesClosed && equity.Equals(Equity) && cash.Equals(Cash);
}

/// <summary>Writes a file so readers never see half of it: write a temporary file, then rename over.</summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
