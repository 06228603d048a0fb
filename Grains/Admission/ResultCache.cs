using Backtesting.Engine.Results;
using Backtesting.Storage;

namespace Backtesting.Grains.Admission;

/// <summary>
/// The result cache's rule at admission. A submission whose content hash (config, data, engine and a custom
/// strategy's source) equals that of a completed backtest may be completed at once with a copy of its stored
/// results, saved under the new backtest's own id. The copy never links to the backtest it came from: its status,
/// history, messages, results and listing name no other backtest, and the other owner's backtest is not touched.
/// </summary>
public static class ResultCache
{
    /// <summary>The history entry of a backtest completed from the cache: it names no other backtest.</summary>
    public const string HitReason = "served from stored results of an identical run (same config, data and engine)";

    /// <summary>
    /// Whose completed backtests a submission may reuse: for a template, any owner's (null), since template code
    /// and market data are shared by everyone and equal hashes give byte-identical results; for a custom strategy,
    /// only the submitter's own, since uploaded code is private and untrusted: reuse across owners would tell one
    /// user that another ran exactly that source, and would hand one owner results another owner's code produced.
    /// </summary>
    public static string? ReuseScope(string owner, bool customStrategy) => customStrategy ? owner : null;

    /// <summary>
    /// The stored results a submission may reuse: those of another completed backtest with the same content hash,
    /// within <see cref="ReuseScope"/>; null when there are none.
    /// </summary>
    public static async Task<BacktestResult?> LookupAsync(IBacktestStore store, Guid id, string contentHash, string owner, bool customStrategy) =>
        await store.FindCompletedByContentHashAsync(contentHash, ReuseScope(owner, customStrategy)) is { } cached
        && cached.Id != id && await store.GetResultAsync(cached.Id) is { } result
            ? result
            : null;
}
