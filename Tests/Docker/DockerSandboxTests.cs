using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Backtesting.Grains.Runners;
using Docker.DotNet.Models;

namespace Backtesting.Tests.Docker;

/// <summary>
/// The sandbox, seen from inside a container the runner configures (for a backtest and for an optimization batch), with
/// the worker image's own probe: .NET code that tries what a strategy escaped from the compiler's sandbox would try.
/// </summary>
[Collection("cluster")]
public class DockerSandboxTests
{
    public static TheoryData<string> Kinds => RunKinds.All;

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task A_worker_container_can_neither_open_a_connection_nor_write_outside_its_output_folder(string kind)
    {
        using var output = new TempFolder();
        // Something the host can reach on a non-loopback address: from a container with a network, this would answer.
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using (var fromHost = new TcpClient())
        {
            await fromHost.ConnectAsync(address, port); // the target is reachable from outside the sandbox
            using var accepted = await listener.AcceptTcpClientAsync();
        }

        using var runner = DockerTestEnvironment.Runner("sandbox-test");
        var request = RunKinds.Request(kind, output.Path);
        DockerTestEnvironment.PrepareFolder(output.Path); // as the runner opens an attempt's folder
        var parameters = runner.ContainerFor(request,
        [
            "sandbox-probe",
            "--connect", $"{address}:{port}",
            "--connect", "1.1.1.1:53",
            "--write", "/output/allowed.txt",
            "--write", "/data/forbidden.txt",
            "--write", "/app/forbidden.txt",
            "--write", "/etc/forbidden.txt",
            "--write", "/forbidden.txt",
        ]);

        using var client = DockerTestEnvironment.Client();
        var container = await client.Containers.CreateContainerAsync(parameters);
        try
        {
            await client.Containers.StartContainerAsync(container.ID, new ContainerStartParameters());
            var exit = await client.Containers.WaitContainerAsync(container.ID);
            using var logs = await client.Containers.GetContainerLogsAsync(container.ID, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true });
            var (stdout, stderr) = await logs.ReadOutputToEndAsync(CancellationToken.None);
            Assert.True(exit.StatusCode == 0, $"probe exited {exit.StatusCode}: {stderr}");

            using var report = JsonDocument.Parse(stdout.Trim());
            var connect = report.RootElement.GetProperty("connect");
            Assert.StartsWith("error", connect.GetProperty($"{address}:{port}").GetString());
            Assert.StartsWith("error", connect.GetProperty("1.1.1.1:53").GetString());
            var write = report.RootElement.GetProperty("write");
            Assert.Equal("written", write.GetProperty("/output/allowed.txt").GetString());
            foreach (var forbidden in new[] { "/data/forbidden.txt", "/app/forbidden.txt", "/etc/forbidden.txt", "/forbidden.txt" })
            {
                Assert.Contains("Read-only file system", write.GetProperty(forbidden).GetString());
            }

            Assert.False(File.Exists(Path.Combine(TestPaths.LeanData, "forbidden.txt")));
            Assert.False(listener.Pending(), "nothing reached the listener from the container");

            var inspect = await client.Containers.InspectContainerAsync(container.ID);
            Assert.NotNull(inspect.HostConfig);
            Assert.NotNull(inspect.Config);
            Assert.Equal("none", inspect.HostConfig.NetworkMode);
            Assert.True(inspect.HostConfig.ReadonlyRootfs);
            Assert.Equal(["ALL"], inspect.HostConfig.CapDrop);
            Assert.Contains("no-new-privileges", inspect.HostConfig.SecurityOpt);
            Assert.Equal("10001:10001", inspect.Config.User);
            Assert.True(inspect.HostConfig.Memory > 0 && inspect.HostConfig.NanoCPUs > 0 && inspect.HostConfig.PidsLimit > 0);
        }
        finally
        {
            await runner.RemoveAsync(container.ID, CancellationToken.None);
        }
    }

    [Fact]
    public void A_batchs_container_is_a_backtests_container_but_for_its_name_labels_command_cpu_grant_and_runtime_settings()
    {
        using var runner = new DockerRunner(new DockerRunnerOptions { Endpoint = "unix:///nonexistent/docker.sock" }, "sandbox-test",
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DockerRunner>.Instance);
        using var output = new TempFolder();
        var backtest = runner.ContainerFor(RunKinds.Request(RunKinds.Backtest, output.Path), ["run"]);
        var batchRequest = RunKinds.Request(RunKinds.Batch, output.Path);
        var batch = runner.ContainerFor(batchRequest, ["run"]);

        // The grant asked for, within this host's cores (the daemon refuses more); a backtest keeps the runner's own limit.
        Assert.Equal((long)(new DockerRunnerOptions().Cpus * 1e9), backtest.HostConfig!.NanoCPUs);
        Assert.Equal((long)(Math.Min(batchRequest.Cpus!.Value, Environment.ProcessorCount) * 1e9), batch.HostConfig!.NanoCPUs);

        // Its environment is a backtest's and the batch's runtime settings, nothing else.
        Assert.Equal(backtest.Env.Concat(WorkerRuntimeSettings.For(batch: true).Select(v => $"{v.Key}={v.Value}")).Order(), batch.Env.Order());
        Assert.NotEmpty(WorkerRuntimeSettings.For(batch: true));

        // Everything else of the sandbox is the same, field by field.
        batch.Env = backtest.Env;
        batch.HostConfig.NanoCPUs = backtest.HostConfig.NanoCPUs;
        batch.Name = backtest.Name;
        batch.Labels = backtest.Labels;
        Assert.Equal(JsonSerializer.Serialize(backtest), JsonSerializer.Serialize(batch));
    }
}
