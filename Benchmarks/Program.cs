using Backtesting.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

const string Usage = """
    usage: dotnet run -c Release --project Benchmarks -- <mode>
      micro [BenchmarkDotNet args]   micro-benchmarks of the hot pieces (default filter: all; e.g. --filter *Indicator* --job short)
      e2e [--bars N] [--small-bars N] [--instruments N] [--repeat N] [--worker-runs N]
                                     the end-to-end scenarios, each in its own child process; prints one table and
                                     the engine's share of a bare hand-written loop over the same bars (the ceiling)
      jit [--data DIR] [--rounds N] [--bars N]
                                     the worker's JIT and runtime settings (IL or ReadyToRun publish x tiered compilation,
                                     PGO, ...): whole-process time on 1- and 10-year minute runs and the engine's
                                     steady-state rate, alternated round by round; prints one table and the choice
      results [--data DIR] [--rounds N]
                                     results.json written the old way (one byte array) and streamed, on a big run:
                                     write time, peak RSS, MB per 10,000 orders
      cluster [--runs N] [--process-runs N] [--queue N] [--event-runs N] [--runners inProcess,process]
                                     one real silo in this process on a fresh PostgreSQL database: submit-to-complete
                                     overhead, queue throughput and event latency; prints one table
      docker [--starts N] [--batch N] [--cycles N]
                                     the Docker runner on a real daemon: start to first progress, a batch at
                                     concurrency 4 against the process runner, pause/resume cycles
      optimize [--trials N] [--rounds N] [--bare-runs N]
                                     the issue-15 grid (MovingAverageCross 1-50 x 51-250 on SPY daily 2016-2020) through the
                                     TrialRunner in this process and the worker's optimize-batch, against a bare engine run
      optimize --through api [--runner docker,process,inProcess] [--batch-trials N[,N...]] [--docker-cpus C[,C...]]
               [--trials N] [--rounds N]
                                     the same grid as a job through POST /api/v1/optimizations on a real silo and PostgreSQL:
                                     POST to completed with every trial stored, and to the first stored trial, per runner
      optimize --minutes N [--rounds N]
                                     the first N grid points over one year of synthetic minute bars in one worker
                                     optimize-batch: trials/s and the worker's peak memory at 100, 500, 1,000 ... trials
      precompile [--batches N] [--trials-per-batch N] [--rounds N]
                                     a custom strategy's job of N worker batches: each compiling its source (before) against
                                     one compile-only run whose assembly every batch verifies and loads (after): worker CPU, wall
      real [--rounds N]              ten years of synthetic LEAN minute zips, the published worker as a whole process:
                                     SMA 10/30 over 1 and 10 years with no cache, a cold cache and a warm one
      bar-cache [--rounds N]         building a ten-year bar cache entry, reading it, and reading the zips
      robustness [--rows N] [--trials N] [--blocks S] [--rounds N]
                                     PBO by CSCV over seeded noise (default 1,260 x 1,000, 16 blocks) and the deflated Sharpe
                                     ratio: time per round
      montecarlo [--days N] [--paths N] [--rounds N]
                                     the backtest Monte Carlo (stationary bootstrap, trade resample and shuffle) over
                                     seeded daily returns (default 1,260 days, 10,000 paths): time per method and round
      scale [--silos 1,2,3] [--backtests N] [--trials N] [--runner process|docker|inProcess] [--batch-trials N]
                                     the same backtests and optimization grid on 1, 2, 3 Silo processes (one slot each, each on its
                                     own loopback address) on one PostgreSQL: backtests/s, trials/s, the ratio to one silo, and
                                     where the time went (CPU per process, slot fill, the queue's hand-off, PostgreSQL's active time)
      queue [--depths 100,1000,10000] [--limits 1,100] [--writes N] [--seconds S]
                                     the queue grain's grant rate with that many entries waiting and the cost of storing its state
    """ + Backtesting.Benchmarks.Chaos.ChaosOptions.Usage + """
      api [--requests N] [--subscribers N]
                                     the API in this process on a real silo: GET /results and GET /list latency, and
                                     SignalR fan-out to N subscribers (in a process of their own); prints one table
    """;

if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var rest = args[1..];
switch (args[0])
{
    case "micro":
        var config = DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default);
        // Without a filter BenchmarkDotNet asks on the console which benchmark to run; run them all instead.
        string[] benchmarkArgs = rest.Any(a => a.StartsWith("--filter", StringComparison.Ordinal) || a == "-f") ? rest : [.. rest, "--filter", "*"];
        // In process: no generated project to build (BenchmarkDotNet looks for a project named like the assembly,
        // Backtesting.Benchmarks, which this repository's naming does not give), and no second build on a small machine.
        if (!benchmarkArgs.Contains("--inProcess"))
        {
            benchmarkArgs = [.. benchmarkArgs, "--inProcess"];
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Workloads).Assembly).Run(benchmarkArgs, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    case "e2e":
        return EndToEnd.Run(rest);
    case "jit":
        return JitSettings.Run(rest);
    case "results":
        return ResultsWriting.Run(rest);
    case ResultsWriting.ChildMode:
        return ResultsWriting.RunChild(rest);
    case "cluster":
        return await ClusterBench.RunAsync(rest);
    case "docker":
        return await DockerBench.RunAsync(rest);
    case "optimize":
        return await OptimizeBench.RunAsync(rest);
    case "precompile":
        return PrecompileBench.Run(rest);
    case "chaos":
        return await Backtesting.Benchmarks.Chaos.ChaosBench.RunAsync(rest);
    case "api":
        return await ApiBench.RunAsync(rest);
    case "scale":
        return await ScaleBench.RunAsync(rest);
    case "queue":
        return await QueueBench.RunAsync(rest);
    case "robustness":
        return RobustnessBench.Run(rest);
    case "montecarlo":
        return MonteCarloBench.Run(rest);
    case "real":
        return RealData.Run(rest);
    case "bar-cache":
        return RealData.RunCacheMicro(rest);
    case EndToEnd.ChildMode:
        return EndToEndChild.Run(rest);
    case FanOutSubscribers.ChildMode:
        return await FanOutSubscribers.RunAsync(rest);
    default:
        Console.Error.WriteLine($"unknown mode '{args[0]}'");
        Console.Error.WriteLine(Usage);
        return 2;
}
