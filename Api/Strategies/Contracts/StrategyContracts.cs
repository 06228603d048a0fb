using Backtesting.Compiler;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Strategies.Contracts;

/// <summary>A strategy a config may name: a template, or one of the caller's own custom strategies (kind custom).</summary>
/// <param name="Kind">template | custom.</param>
/// <param name="Version">A custom strategy's latest version; null for a template.</param>
public sealed record StrategyInfo(string Name, string Description, int MaxInstruments, IReadOnlyList<ParameterSchema> Parameters,
    string Kind = StrategyKinds.Template, int? Version = null, string? SourceHash = null, DateTime? UpdatedAt = null);

public static class StrategyKinds
{
    public const string Template = "template";
    public const string Custom = "custom";
}

/// <summary>An upload's answer: the stored version and its schema.</summary>
/// <param name="Created">False when the source equals the latest version's, which is returned unchanged.</param>
/// <param name="Warnings">The compiler's warnings (errors reject the upload).</param>
public sealed record StrategyVersionResponse(string Name, int Version, string SourceHash, bool Created, DateTime CreatedAt, StrategyInfo Schema,
    IReadOnlyList<StrategyDiagnostic> Warnings);

public sealed record StrategyVersionSummary(int Version, string SourceHash, DateTime CreatedAt);

/// <summary>One of the caller's custom strategies: every version, and the latest one's schema and source.</summary>
public sealed record StrategyDetailResponse(string Name, string Kind, int LatestVersion, StrategyInfo Schema, string Source,
    IReadOnlyList<StrategyVersionSummary> Versions);

public sealed record UploadRequest(string? Source);

/// <summary>A delete's answer.</summary>
/// <param name="Outcome"><c>removed</c>: no backtest ran it, so it is gone with every version; <c>retired</c>: backtests ran it, so
/// their versions stay (their status and results still name them) but it is no longer listed or startable.</param>
public sealed record StrategyDeletedResponse(string Name, string Outcome);
