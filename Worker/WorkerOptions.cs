namespace Backtesting.Worker;

/// <summary>The worker's command line.</summary>
public sealed record WorkerOptions(
    string ConfigPath,
    string OutputDirectory,
    string? DataDirectory,
    bool Resume,
    string BacktestId,
    TimeSpan CheckpointInterval)
{
    public const string Usage =
        "usage: worker --config <file.json> --output <dir> [--data <dir>] [--resume] [--backtest-id <id>] [--checkpoint-seconds <n>]";

    public static (WorkerOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        string? config = null, output = null, data = null, id = null;
        var resume = false;
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
                case "--resume":
                    resume = true;
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
            TimeSpan.FromSeconds(checkpointSeconds)), null);
    }
}
