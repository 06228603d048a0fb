using Backtesting.Engine.Robustness;
using Backtesting.Engine.Strategies;
using Microsoft.AspNetCore.Mvc;

namespace Backtesting.Api.Robustness.Contracts;

/// <summary>
/// The query of <c>GET /results/{id}/montecarlo</c> (bound with <c>[AsParameters]</c>), validated here once; the rules
/// that depend on the backtest's data (blockSize at most the number of daily returns) are the engine's
/// (<see cref="MonteCarlo.InvalidOption"/>).
/// </summary>
public sealed record MonteCarloQuery(
    [FromQuery(Name = "paths")] int? Paths,
    [FromQuery(Name = "method")] string? Method,
    [FromQuery(Name = "sampling")] string? Sampling,
    [FromQuery(Name = "blockSize")] double? BlockSize,
    [FromQuery(Name = "seed")] long? Seed,
    [FromQuery(Name = "drawdownLimit")] double? DrawdownLimit,
    [FromQuery(Name = "bins")] int? Bins,
    [FromQuery(Name = "fanPoints")] int? FanPoints)
{
    public const string Trades = "trades";
    public const string BlockBootstrap = "blockBootstrap";
    public const string Shuffle = "shuffle";
    public const string Resample = "resample";

    public static readonly IReadOnlyList<string> MethodWords = [BlockBootstrap, Trades];
    public static readonly IReadOnlyList<string> SamplingWords = [Resample, Shuffle];

    private static readonly MonteCarloOptions Defaults = new();

    public string MethodWord => Method ?? BlockBootstrap;

    public string? SamplingWord => MethodWord == Trades ? Sampling ?? Resample : null;

    public MonteCarloMethod EngineMethod => MethodWord == BlockBootstrap ? MonteCarloMethod.StationaryBootstrap
        : SamplingWord == Shuffle ? MonteCarloMethod.TradeShuffle
        : MonteCarloMethod.TradeResample;

    public MonteCarloOptions Options => new(
        Paths ?? Defaults.Paths, Seed ?? Defaults.Seed, BlockSize, DrawdownLimit ?? Defaults.DrawdownLimit, Bins ?? Defaults.Bins,
        FanPoints ?? Defaults.FanPoints);

    /// <summary>Every rule the query breaks, each naming its field.</summary>
    public IReadOnlyList<ValidationError> Errors()
    {
        var errors = new List<ValidationError>();
        if (!MethodWords.Contains(MethodWord))
        {
            errors.Add(new("method", "allowed", $"method must be one of: {string.Join(", ", MethodWords)}"));
        }

        if (Sampling is not null && MethodWord != Trades)
        {
            errors.Add(new("sampling", "notApplicable", "sampling applies only to method=trades"));
        }
        else if (Sampling is not null && !SamplingWords.Contains(Sampling))
        {
            errors.Add(new("sampling", "allowed", $"sampling must be one of: {string.Join(", ", SamplingWords)}"));
        }

        if (BlockSize is not null && MethodWord != BlockBootstrap)
        {
            errors.Add(new("blockSize", "notApplicable", "blockSize applies only to method=blockBootstrap"));
        }
        else if (BlockSize is { } block && !(block > 0 && double.IsFinite(block)))
        {
            errors.Add(new("blockSize", "min", "blockSize must be a number above 0 (the mean block length in days, at least 1)"));
        }

        if (Paths is < 1 or > MonteCarlo.MaxPaths)
        {
            errors.Add(new("paths", "range", $"paths must be between 1 and {MonteCarlo.MaxPaths}"));
        }

        if (DrawdownLimit is { } limit && !(limit > 0 && limit <= 1))
        {
            errors.Add(new("drawdownLimit", "range", "drawdownLimit must be a fraction above 0 and at most 1 (0.2 = a 20% fall from a peak)"));
        }

        if (Bins is < 1 or > MonteCarlo.MaxBins)
        {
            errors.Add(new("bins", "range", $"bins must be between 1 and {MonteCarlo.MaxBins}"));
        }

        if (FanPoints is < 2 or > MonteCarlo.MaxFanPoints)
        {
            errors.Add(new("fanPoints", "range", $"fanPoints must be between 2 and {MonteCarlo.MaxFanPoints}"));
        }

        return errors;
    }
}
