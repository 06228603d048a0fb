using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Backtesting.Tests.Docker;

/// <summary>
/// docker-compose.yml cannot be run here (its base images need a registry), so its structure is checked: with
/// `docker compose config` when the compose plugin is installed, and always by parsing it as YAML.
/// </summary>
public class ComposeFileTests
{
    private static readonly string ComposePath = Path.Combine(TestPaths.RepositoryRoot, "docker-compose.yml");

    private static YamlMappingNode Root()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(ComposePath);
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];

    private static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;

    private static IEnumerable<string> Items(YamlNode node, string key) =>
        ((YamlSequenceNode)((YamlMappingNode)node)[key]).Children.Select(c => ((YamlScalarNode)c).Value!);

    [Fact]
    public void The_compose_file_has_postgres_scalable_silos_on_the_docker_socket_the_api_and_the_worker_image()
    {
        var services = Map(Root(), "services");
        Assert.Equal(["api", "postgres", "silo", "worker-image"], services.Children.Keys.Select(k => ((YamlScalarNode)k).Value).Order());

        Assert.StartsWith("postgres:", Scalar(services["postgres"], "image"));

        var silo = services["silo"];
        Assert.Equal("docker/service.Dockerfile", Scalar(Map(silo, "build"), "dockerfile"));
        Assert.Equal("Silo", Scalar(Map(Map(silo, "build"), "args"), "PROJECT"));
        Assert.True(int.Parse(Scalar(Map(silo, "deploy"), "replicas"), System.Globalization.CultureInfo.InvariantCulture) >= 2);
        // Scaled replicas share one service definition: no fixed host ports, and each advertises its own address.
        Assert.False(((YamlMappingNode)silo).Children.ContainsKey("ports"));
        Assert.Contains("Silo__AdvertisedAddress=$$(hostname -i", string.Join(" ", Items(silo, "entrypoint")));
        var siloEnvironment = Map(silo, "environment");
        Assert.Equal("true", Scalar(siloEnvironment, "Silo__ListenOnAnyAddress"));
        Assert.Equal("docker", Scalar(siloEnvironment, "Backtesting__Runner"));
        Assert.Equal("unix:///var/run/docker.sock", Scalar(siloEnvironment, "Backtesting__Docker__Endpoint"));
        Assert.Contains("/var/run/docker.sock:/var/run/docker.sock", Items(silo, "volumes"));
        Assert.Contains("postgres", Map(silo, "depends_on").Children.Keys.Select(k => ((YamlScalarNode)k).Value));

        var api = services["api"];
        Assert.Equal("Api", Scalar(Map(Map(api, "build"), "args"), "PROJECT"));
        Assert.Contains("8000:8000", Items(api, "ports"));
        Assert.Contains("silo", Items(api, "depends_on"));

        var worker = services["worker-image"];
        Assert.Equal("backtesting-worker:" + Grains.Runners.DockerRunnerOptions.ProjectVersion, Scalar(worker, "image"));
        Assert.Equal(Scalar(siloEnvironment, "Backtesting__Docker__Image"), Scalar(worker, "image"));
        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime-deps:", Scalar(Map(Map(worker, "build"), "args"), "BASE_IMAGE"));
        Assert.True(File.Exists(Path.Combine(TestPaths.RepositoryRoot, "docker", "worker.Dockerfile")));
        Assert.True(File.Exists(Path.Combine(TestPaths.RepositoryRoot, "docker", "service.Dockerfile")));
        CheckWithComposeWhenInstalled();
    }

    /// <summary>`docker compose config` on the file, where the compose plugin exists (Debian's docker.io has none).</summary>
    private static void CheckWithComposeWhenInstalled()
    {
        Process? probe;
        try
        {
            probe = Process.Start(new ProcessStartInfo("docker", ["compose", "version"]) { RedirectStandardOutput = true, RedirectStandardError = true });
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return; // no docker CLI at all
        }

        using (probe)
        {
            probe!.WaitForExit();
            if (probe.ExitCode != 0)
            {
                return;
            }
        }

        var config = new ProcessStartInfo("docker", ["compose", "-f", ComposePath, "config", "--quiet"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        using var check = Process.Start(config)!;
        var errors = check.StandardError.ReadToEnd();
        check.WaitForExit();
        Assert.True(check.ExitCode == 0, errors);
    }
}
