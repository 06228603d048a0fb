using System.Globalization;

namespace Backtesting.Benchmarks.Chaos;

/// <summary>The sizes of a chaos run: defaults are issue 18's; a small run (a few minutes) names smaller ones.</summary>
internal sealed record ChaosOptions
{
    public int Backtests { get; init; } = 1_000;
    public int Jobs { get; init; } = 2;
    public int Trials { get; init; } = 5_000;
    /// <summary>How many silos are killed (kill -9, each replaced), one every <see cref="KillEvery"/>.</summary>
    public int Kills { get; init; } = 12;
    public TimeSpan KillEvery { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Worker containers killed with kill -9 (docker kill), spread over the faults.</summary>
    public int ContainerKills { get; init; } = 3;
    public string Runner { get; init; } = "docker";
    public int Clients { get; init; } = 200;
    public int Subscribers { get; init; } = 100;
    /// <summary>Each polling client's pause between two requests.</summary>
    public TimeSpan PollEvery { get; init; } = TimeSpan.FromSeconds(1);
    public int ClusterLimit { get; init; } = 4;
    public int OwnerLimit { get; init; } = 2;
    /// <summary>The fixed part of the drain bound; the remaining work at the last fault, at the run's own rate, is added.</summary>
    public TimeSpan DrainSlack { get; init; } = TimeSpan.FromMinutes(2);

    public const string Usage = """

          chaos [--backtests N] [--jobs N] [--trials N] [--kills N] [--kill-every S] [--container-kills N] [--runner docker|process]
                [--clients N] [--subscribers N] [--poll-every S]
                                     issue 18's chaos run: three silo processes on a PostgreSQL of its own, the API as a process,
                                     a burst of backtests from three owners and optimization jobs through the API, while silos are
                                     killed (kill -9, replaced), PostgreSQL restarts (-m fast, -m immediate), the Docker daemon
                                     restarts and worker containers are killed; then the checks, the rates, the recovery times
                                     per fault kind and the drain time against its bound. Exits 1 on any failed check.

        """;

    public static ChaosOptions Parse(string[] args)
    {
        var options = new ChaosOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
            TimeSpan Seconds() => TimeSpan.FromSeconds(double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture));
            options = args[i] switch
            {
                "--backtests" => options with { Backtests = Int() },
                "--jobs" => options with { Jobs = Int() },
                "--trials" => options with { Trials = Int() },
                "--kills" => options with { Kills = Int() },
                "--kill-every" => options with { KillEvery = Seconds() },
                "--container-kills" => options with { ContainerKills = Int() },
                "--runner" => options with { Runner = value is "docker" or "process" ? value : throw new ArgumentException("--runner is docker or process") },
                "--clients" => options with { Clients = Int() },
                "--subscribers" => options with { Subscribers = Int() },
                "--poll-every" => options with { PollEvery = Seconds() },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }

        return options;
    }
}
