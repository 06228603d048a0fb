namespace Backtesting.Storage;

/// <summary>One stored version of a custom strategy. Versions never change once stored.</summary>
/// <param name="ContentHash">The compiler's source hash (SHA-256 of the source with \n line endings).</param>
/// <param name="SchemaJson">The strategy's schema (name, description, parameters) as the compiler derived it; read back
/// normalized by jsonb (same content, maybe another key order).</param>
public sealed record StrategyVersion(
    Guid StrategyId,
    string Owner,
    string Name,
    int Version,
    string Source,
    string ContentHash,
    string SchemaJson,
    DateTime CreatedAt);

/// <summary>A strategy and its latest version, for listings (without the source).</summary>
public sealed record StrategySummary(
    Guid StrategyId,
    string Name,
    int LatestVersion,
    string ContentHash,
    string SchemaJson,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>What deleting a custom strategy did.</summary>
public enum StrategyDeletion
{
    /// <summary>The owner has no strategy of that name (or it was already deleted).</summary>
    NotFound,
    /// <summary>No backtest had run it: the strategy and all its versions are gone.</summary>
    Removed,
    /// <summary>Backtests ran some version of it: those versions stay for them, but the strategy is no longer listed or startable.</summary>
    Retired,
}

/// <summary>The custom strategy version a backtest ran.</summary>
public sealed record StrategyVersionRef(Guid StrategyId, int Version);

/// <summary>
/// Where custom strategies live (<c>sql/030_custom_strategies.sql</c>, <c>031_strategy_delete.sql</c>): per owner and class name, as immutable
/// numbered versions. Every read takes the owner, so one owner never sees or runs another's strategy: asking
/// for someone else's strategy answers as if it did not exist. Saving the same source again changes nothing.
/// </summary>
public interface IStrategyStore
{
    /// <summary>
    /// Stores <paramref name="source"/> as the next version of the owner's strategy <paramref name="name"/>
    /// (version 1 of a new strategy). When the latest version already has this content hash, that version is
    /// returned and nothing is written. Concurrent saves of one strategy get consecutive numbers.
    /// </summary>
    Task<StrategyVersion> SaveVersionAsync(string owner, string name, string source, string contentHash, string schemaJson,
        CancellationToken cancellationToken = default);

    /// <summary>A version (null = the latest) of the owner's strategy; null when it does not exist or is another owner's.</summary>
    Task<StrategyVersion?> GetAsync(string owner, Guid strategyId, int? version = null, CancellationToken cancellationToken = default);

    /// <summary>A version (null = the latest) of the owner's strategy with this class name; null when there is none or it was deleted.</summary>
    Task<StrategyVersion?> GetByNameAsync(string owner, string name, int? version = null, CancellationToken cancellationToken = default);

    /// <summary>The owner's strategies with their latest versions, by name (deleted ones left out).</summary>
    Task<IReadOnlyList<StrategySummary>> ListAsync(string owner, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the owner's strategy of this class name: removed with every version when no backtest ran it, else
    /// retired (kept for those backtests, by id, but no longer found by name or listed). Saving the name again brings a
    /// retired strategy back with its next version number.
    /// </summary>
    Task<StrategyDeletion> DeleteAsync(string owner, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that a backtest ran this version. Only a version of a strategy of the backtest's own owner can be
    /// recorded; recording the same again changes nothing.
    /// </summary>
    /// <returns>False when there is no such backtest or version, or the strategy belongs to another owner.</returns>
    Task<bool> RecordBacktestStrategyAsync(Guid backtestId, Guid strategyId, int version, CancellationToken cancellationToken = default);

    /// <summary>The custom strategy version a backtest ran; null for a template (or no such backtest).</summary>
    Task<StrategyVersionRef?> GetBacktestStrategyAsync(Guid backtestId, CancellationToken cancellationToken = default);
}
