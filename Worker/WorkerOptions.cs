namespace Backtesting.Worker;

/// <summary>The worker's command line.</summary>
public sealed record WorkerOptions(
    string ConfigPath,
    string OutputDirectory,
    string? DataDirectory,
    bool Resume,
    string BacktestId,
    TimeSpan CheckpointInterval,
    bool StopOnStdinClose = false)
{
    public const string Usage =
        "usage: worker --config <file.json> --output <dir> [--data <dir>] [--resume] [--backtest-id <id>] [--checkpoint-seconds <n>] [--stop-on-stdin-close]";

    public static (WorkerOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        string? config = null, output = null, data = null, id = null;
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
            TimeSpan.FromSeconds(checkpointSeconds), stopOnStdinClose), null);
    }
}
