using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;
using Backtesting.Grains.Runners;

namespace Backtesting.Grains.Protocol;

/// <summary>
/// Reads a run's results.json as the one source of its results and summary, trusting nothing in it it can check:
/// the file is at most <c>maxBytes</c> long, parses against the results contract (no duplicate keys, no unknown
/// fields), and belongs to this run (its content hash is the run's: the same config, data and engine). A whole run's
/// results must not be marked partial. Anything else is a <see cref="WorkerProtocolException"/> naming the rule.
/// </summary>
public static class ResultsFile
{
    /// <summary>The default of Backtesting:MaxResultsBytes: the largest results.json a silo reads.</summary>
    public const long DefaultMaxBytes = 256L << 20;

    private static readonly JsonSerializerOptions Options = new(JsonDefaults.Options) { AllowDuplicateProperties = false };

    /// <param name="expectedContentHash">The run's content hash (computed by the grain from the submitted config).</param>
    /// <param name="whole">The worker said it completed: the results must not be partial.</param>
    /// <returns>The results, or null when the file does not exist.</returns>
    public static async Task<BacktestResult?> ReadAsync(string path, string? expectedContentHash, long maxBytes, bool whole)
    {
        // The worker wrote it: a link, a FIFO or a folder there is refused, never followed (AttemptFolder).
        FileStream? stream;
        try
        {
            stream = AttemptFolder.OpenRead(path);
        }
        catch (IOException e)
        {
            throw new WorkerProtocolException("results.json cannot be read as a plain file: " + WorkerLineReader.Cut(e.Message, 300));
        }

        if (stream is null)
        {
            return null;
        }

        BacktestResult? result;
        await using (stream)
        {
            if (stream.Length > maxBytes)
            {
                throw new WorkerProtocolException(
                    $"results.json is {stream.Length} bytes, over the limit of {maxBytes} (Backtesting:MaxResultsBytes)");
            }

            try
            {
                result = await JsonSerializer.DeserializeAsync<BacktestResult>(stream, Options);
            }
            catch (JsonException e)
            {
                throw new WorkerProtocolException("results.json does not match the results contract: " + WorkerLineReader.Cut(e.Message, 300));
            }
        }

        return Check(result, expectedContentHash, whole);
    }

    /// <summary>The checks of <see cref="ReadAsync"/> on results already parsed.</summary>
    public static BacktestResult Check(BacktestResult? result, string? expectedContentHash, bool whole)
    {
        if (result?.Summary is null || result.Config is null)
        {
            throw new WorkerProtocolException("results.json does not match the results contract: it has no summary or config");
        }

        if (expectedContentHash is not null && !string.Equals(result.ContentHash, expectedContentHash, StringComparison.Ordinal))
        {
            throw new WorkerProtocolException(
                $"results.json belongs to another run: its content hash {WorkerLineReader.Cut(result.ContentHash, 80)} is not this run's {expectedContentHash}");
        }

        if (whole && result.Partial)
        {
            throw new WorkerProtocolException("the worker completed but its results.json is marked partial");
        }

        return result;
    }

    /// <summary>The completion summary, from the results alone.</summary>
    public static CompletionSummary SummaryOf(BacktestResult result) =>
        new(result.Summary.TotalTrades, result.Summary.FinalBalance, result.Summary.TotalReturn, result.Summary.MaxDrawdown);
}
