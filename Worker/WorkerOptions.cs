namespace Backtesting.Worker;

/// <summary>The worker's command line.</summary>
public sealed record WorkerOptions(
    string ConfigPath,
    string OutputDirectory,
    string? DataDirectory,
    bool Resume,
    string BacktestId,
    TimeSpan CheckpointInterval,
    bool StopOnStdinClose = false,
    string? StrategySource = null,
    TimeSpan? Timeout = null,
    TimeSpan? StallTimeout = null,
    string? BarCache = null,
    bool BarCacheReadOnly = false,
    bool Timings = false)
{
    /// <summary>Names the bar cache folder, or <c>off</c>, when --bar-cache is not given.</summary>
    public const string BarCacheEnvironmentVariable = "BACKTESTING_BAR_CACHE";

    /// <summary>The value of --bar-cache (or the variable) that reads the zips every time.</summary>
    public const string BarCacheOff = "off";

    public const string Usage =
        "usage: worker --config <file.json> --output <dir> [--data <dir>] [--resume] [--backtest-id <id>] [--checkpoint-seconds <n>] [--stop-on-stdin-close]\n" +
        "              [--strategy-source <strategy.cs>] [--timeout-seconds <n>] [--stall-seconds <n>]\n" +
        "              [--bar-cache <dir>|off] [--bar-cache-read-only] [--timings]\n" +
        "       worker compile --source <strategy.cs> [--output <dir>] [--timeout-seconds <n>]\n" +
        "       worker optimize-batch --batch <batch.json> --output <dir> [--data <dir>] [--bar-cache <dir>|off] [--bar-cache-read-only] [--stop-on-stdin-close]\n" +
        "                             [--strategy-source <strategy.cs> | --strategy-assembly <dir of compile.json and strategy.dll>] [--trial-timeout-seconds <n>]";

    public static (WorkerOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        string? config = null, output = null, data = null, id = null, strategySource = null, barCache = null;
        var barCacheReadOnly = false;
        var timings = false;
        TimeSpan? timeout = null, stall = null;
        var resume = false;
        var stopOnStdinClose = false;
        var checkpointSeconds = 5.0;
        for (var i = 0; i < args.Count; i++)
        {
            string? Next() => i + 1 < args.Count ? args[++i] : null;
            switch (args[i])
            {
                case "--config":
                    config = Next();
                    break;
                case "--output":
                    output = Next();
                    break;
                case "--data":
                    data = Next();
                    break;
                case "--backtest-id":
                    id = Next();
                    break;
                case "--strategy-source":
                    strategySource = Next();
                    break;
                case "--timeout-seconds":
                    if ((timeout = ParseSeconds(Next())) is null)
                    {
                        return (null, "--timeout-seconds needs a positive number");
                    }

                    break;
                case "--stall-seconds":
                    if ((stall = ParseSeconds(Next())) is null)
                    {
                        return (null, "--stall-seconds needs a positive number");
                    }

                    break;
                case "--bar-cache":
                    if (string.IsNullOrEmpty(barCache = Next()))
                    {
                        return (null, "--bar-cache needs a folder or 'off'");
                    }

                    break;
                case "--bar-cache-read-only":
                    barCacheReadOnly = true;
                    break;
                case "--timings":
                    timings = true;
                    break;
                case "--resume":
                    resume = true;
                    break;
                case "--stop-on-stdin-close":
                    // A supervisor keeps our stdin open; when it dies the pipe closes and we stop (no orphans).
                    stopOnStdinClose = true;
                    break;
                case "--checkpoint-seconds":
                    if (!double.TryParse(Next(), System.Globalization.CultureInfo.InvariantCulture, out checkpointSeconds) || checkpointSeconds <= 0)
                    {
                        return (null, "--checkpoint-seconds needs a positive number");
                    }

                    break;
                default:
                    return (null, $"unknown argument '{args[i]}'");
            }
        }

        if (config is null)
        {
            return (null, "--config <file.json> is required");
        }

        if (output is null)
        {
            return (null, "--output <dir> is required");
        }

        return (new WorkerOptions(config, output, data, resume, id ?? Path.GetFileNameWithoutExtension(config),
            TimeSpan.FromSeconds(checkpointSeconds), stopOnStdinClose, strategySource, timeout, stall, barCache, barCacheReadOnly, timings), null);
    }

    /// <summary>
    /// How the run reads the data folder: through the bar cache named by --bar-cache, else by BACKTESTING_BAR_CACHE,
    /// else <c>bar-cache/&lt;data folder name&gt;</c> beside the data folder; <c>off</c> reads the zips. A custom
    /// strategy's run only ever reads the cache: code a user uploaded must not write what other runs read.
    /// </summary>
    public Backtesting.Engine.Data.LeanDataProviderOptions DataOptions(string dataRoot, string? environment) =>
        BarCacheOptions(dataRoot, BarCache ?? environment, BarCacheReadOnly || StrategySource is not null);

    /// <summary>
    /// The bar cache a worker command reads through, from its --bar-cache setting (or the variable): <c>off</c> reads
    /// the zips, a folder is used as given, nothing means the default folder beside the data.
    /// </summary>
    public static Backtesting.Engine.Data.LeanDataProviderOptions BarCacheOptions(string dataRoot, string? setting, bool readOnly)
    {
        if (string.Equals(setting, BarCacheOff, StringComparison.OrdinalIgnoreCase))
        {
            return new();
        }

        var folder = string.IsNullOrEmpty(setting) ? Backtesting.Engine.Data.Cache.BarCache.DefaultDirectory(dataRoot) : setting;
        return new(folder, readOnly);
    }

    /// <summary>A positive number of seconds, or null.</summary>
    public static TimeSpan? ParseSeconds(string? text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
        && seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
