using System.Diagnostics;
using System.Globalization;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Results;
using Backtesting.Engine.Strategies;
using Backtesting.Grains.Interfaces;
using Backtesting.Grains.Runners;
using Backtesting.Tests.Cluster;

namespace Backtesting.Benchmarks.Chaos;

internal static partial class ChaosBench
{
    private sealed partial class Run
    {
        /// <summary>
        /// A silo killed (kill -9) and replaced every <see cref="ChaosOptions.KillEvery"/>; among the kills, PostgreSQL restarted
        /// -m fast (a quarter through) and -m immediate (three quarters), the Docker daemon restarted (half way), and worker
        /// containers killed, spread evenly. Each fault's affected backtests are followed until they run again.
        /// </summary>
        private async Task Faults(List<SiloProcess> silos, Func<SiloProcess> startSilo, OwnPostgres postgres, string root, Stopwatch clock)
        {
            var containerKillsAt = Enumerable.Range(1, options.ContainerKills).Select(c => c * options.Kills / (options.ContainerKills + 1)).ToList();
            for (var k = 0; k < options.Kills; k++)
            {
                await Task.Delay(options.KillEvery);
                var victim = silos[_random.Next(silos.Count)];
                // The queue names a run's silo by its parsable address, 127.0.0.1:<port>@<generation>.
                var address = string.Create(CultureInfo.InvariantCulture, $":{victim.SiloPort}@");
                var running = await Running(r => r.Silo?.Contains(address, StringComparison.Ordinal) == true);
                await Fault("silo kill -9", running, () => ChaosHarness.KillAndReplace(silos, victim, startSilo));
                if (k == options.Kills / 4)
                {
                    await Fault("postgres restart fast", await Running(_ => true), () => postgres.RestartAsync("fast"));
                }

                if (k == options.Kills / 2 && options.Runner == "docker")
                {
                    await Fault("docker daemon restart", await Running(_ => true), () => ChaosHarness.RestartDocker(root));
                }

                if (k == 3 * options.Kills / 4)
                {
                    await Fault("postgres restart immediate", await Running(_ => true), () => postgres.RestartAsync("immediate"));
                }

                foreach (var _ in containerKillsAt.Where(c => c == k))
                {
                    await KillWorker();
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {clock.Elapsed.TotalSeconds,5:F0} s: kill {k + 1}/{options.Kills}; {_ended.Count}/{_backtests.Count} backtests ended; load {Load()}"));
            }
        }

        /// <summary>The backtests holding a slot that <paramref name="where"/> picks, with their status before the fault.</summary>
        private async Task<List<BacktestStatus>> Running(Func<RunningEntry, bool> where)
        {
            try
            {
                var queue = await client.GetGrain<IBacktestQueueGrain>(0).GetSnapshot().WaitAsync(TimeSpan.FromSeconds(10));
                var ids = queue.Running.Where(r => r.Kind == QueueItemKind.Backtest && where(r)).Select(r => r.BacktestId).ToList();
                return [.. await Task.WhenAll(ids.Select(id => client.GetGrain<IBacktestGrain>(id).GetStatus().WaitAsync(TimeSpan.FromSeconds(10))))];
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
            {
                return []; // the cluster is settling after the last kill: this fault counts no affected backtest
            }
        }

        private async Task Fault(string kind, List<BacktestStatus> affected, Func<Task> act)
        {
            var began = DateTime.UtcNow;
            await act();
            var fault = new Fault(kind, began, DateTime.UtcNow, [.. affected.Select(a => a.Id)]);
            _faults.Add(fault);
            foreach (var before in affected.Where(a => !a.IsTerminal))
            {
                _ = Task.Run(() => FollowUntilRunning(fault, before));
            }
        }

        /// <summary>
        /// Running again: a new attempt started after the fault, or progress beyond what it had before, or the end. Polled every
        /// 250 ms for up to ten minutes.
        /// </summary>
        private async Task FollowUntilRunning(Fault fault, BacktestStatus before)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
            var bars = before.Progress?.Progress.ProcessedBars ?? 0;
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    var now = await client.GetGrain<IBacktestGrain>(before.Id).GetStatus().WaitAsync(TimeSpan.FromSeconds(10));
                    if (now.IsTerminal
                        || (now.State == BacktestState.Running && (now.Attempts.Any(a => a.StartedAt > fault.Began) || (now.Progress?.Progress.ProcessedBars ?? 0) > bars)))
                    {
                        fault.RecoverySeconds.Add((DateTime.UtcNow - fault.Began).TotalSeconds);
                        return;
                    }
                }
                catch (Exception e) when (e is TimeoutException or OrleansException or SiloUnavailableException)
                {
                }

                await Task.Delay(250);
            }
        }

        /// <summary>kill -9 of one random worker: a container (docker kill) or, with the process runner, a worker process.</summary>
        private async Task KillWorker()
        {
            var began = DateTime.UtcNow;
            Guid? hit = null;
            if (options.Runner == "docker")
            {
                var containers = (await ChaosHarness.Docker("ps", "-q", "--filter", $"label={DockerRunner.BacktestLabel}")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (containers.Length == 0)
                {
                    return;
                }

                var container = containers[_random.Next(containers.Length)];
                var label = (await ChaosHarness.Docker("inspect", "-f", $"{{{{index .Config.Labels \"{DockerRunner.BacktestLabel}\"}}}}", container)).Trim();
                hit = Guid.TryParse(label, out var id) ? id : null;
                await ChaosHarness.Docker("kill", container);
            }
            else
            {
                var workers = ChaosHarness.WorkersUnder(_work);
                if (workers.Count == 0)
                {
                    return;
                }

                var pid = workers[_random.Next(workers.Count)];
                var commandLine = File.Exists($"/proc/{pid}/cmdline") ? File.ReadAllText($"/proc/{pid}/cmdline") : "";
                hit = _backtests.Select(b => (Guid?)b.Id).FirstOrDefault(id => commandLine.Contains(id!.Value.ToString(), StringComparison.OrdinalIgnoreCase));
                Process.GetProcessById(pid).Kill();
            }

            var affected = hit is { } backtest && _backtests.Any(b => b.Id == backtest)
                ? [await client.GetGrain<IBacktestGrain>(backtest).GetStatus()]
                : new List<BacktestStatus>();
            var fault = new Fault("worker kill -9", began, DateTime.UtcNow, [.. affected.Select(a => a.Id)]);
            _faults.Add(fault);
            foreach (var before in affected.Where(a => !a.IsTerminal))
            {
                _ = Task.Run(() => FollowUntilRunning(fault, before));
            }
        }

        private string _work = "";
    }

    /// <summary>A configuration run on the engine in this process, with no fault: what the cluster's stored result must equal.</summary>
    private static class Reference
    {
        public static BacktestResult Of(string json, string root)
        {
            var data = new LeanDataProvider(Path.Combine(root, "data", "lean"));
            var config = ConfigValidator.Parse(json).Config!;
            var spec = ConfigValidator.Validate(config, data, StrategyCatalog.Templates, ValidationPolicy.Service, DateOnly.FromDateTime(DateTime.UtcNow)).Spec!;
            return new Engine.Core.BacktestRun(spec, data, StrategyCatalog.Templates).Execute();
        }
    }
}
