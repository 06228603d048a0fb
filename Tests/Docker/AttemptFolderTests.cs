using System.Diagnostics;
using System.Runtime.Versioning;
using Backtesting.Engine.Protocol;
using Backtesting.Grains.Runners;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backtesting.Tests.Docker;

/// <summary>
/// The attempt folder on the host (what a container sees as /output): closed to everyone but its owner, and
/// never a way for what the worker left there to reach a host file through the silo.
/// </summary>
[SupportedOSPlatform("linux")]
public class AttemptFolderTests
{
    public static TheoryData<string> NotANonRootNumericUser => ["0:0", "0:10001", "10001:0", "worker", "worker:worker", "", "10001", "-1:5", "1:2:3", " 10001:10001"];

    [Theory]
    [MemberData(nameof(NotANonRootNumericUser))]
    public void The_container_user_must_be_a_numeric_non_root_uid_and_gid(string user)
    {
        Assert.False(ContainerUser.TryParse(user, out _, out var error));
        Assert.Contains("Backtesting:Docker:User", error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NotANonRootNumericUser))]
    public void A_docker_runner_refuses_to_start_with_such_a_user(string user)
    {
        var options = new DockerRunnerOptions { Endpoint = "unix:///nonexistent.sock", User = user };
        var refused = Assert.Throws<InvalidOperationException>(() => new DockerRunner(options, "test", NullLogger<DockerRunner>.Instance));
        Assert.Contains("Backtesting:Docker:User", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_root_silo_gives_the_folder_to_the_container_user_a_silo_of_that_uid_owns_it_and_any_other_cannot_share_it()
    {
        var user = new ContainerUser(10001, 10001);
        Assert.Equal(AttemptFolder.Ownership.GiveToContainerUser, AttemptFolder.PlanFor(0, user));
        Assert.Equal(AttemptFolder.Ownership.AlreadyOwned, AttemptFolder.PlanFor(10001, user));
        foreach (var other in new uint[] { 1, 1000, 10000, 10002, 65534 })
        {
            Assert.Equal(AttemptFolder.Ownership.Impossible, AttemptFolder.PlanFor(other, user));
        }
    }

    [Fact]
    public void A_prepared_folder_is_open_to_its_owner_only_even_when_it_existed_world_writable()
    {
        using var temp = new TempFolder();
        var fresh = temp.File("fresh/attempt-1");
        var existing = temp.File("existing");
        Directory.CreateDirectory(existing);
        File.SetUnixFileMode(existing, (UnixFileMode)0b111_111_111);

        AttemptFolder.Prepare(fresh, owner: null);
        AttemptFolder.Prepare(existing, owner: null);

        Assert.Equal(AttemptFolder.FolderMode, File.GetUnixFileMode(fresh));
        Assert.Equal(AttemptFolder.FolderMode, File.GetUnixFileMode(existing));
    }

    [Fact]
    public async Task Writing_into_the_folder_replaces_a_planted_link_and_never_writes_through_it()
    {
        using var temp = new TempFolder();
        var hostFile = temp.File("host-file");
        await File.WriteAllTextAsync(hostFile, "host");
        var folder = temp.File("attempt-1");
        AttemptFolder.Prepare(folder, owner: null);
        var planted = Path.Combine(folder, WorkerFiles.Checkpoint);
        File.CreateSymbolicLink(planted, hostFile);

        await AttemptFolder.WriteTextAsync(planted, "{}");

        Assert.Equal("host", await File.ReadAllTextAsync(hostFile));
        Assert.Null(new FileInfo(planted).LinkTarget);
        Assert.Equal("{}", await File.ReadAllTextAsync(planted));
        Assert.Equal(AttemptFolder.SiloFileMode, File.GetUnixFileMode(planted));
    }

    [Fact]
    public async Task Reading_from_the_folder_refuses_a_link_a_fifo_and_a_folder_and_reads_a_plain_file()
    {
        using var temp = new TempFolder();
        var hostFile = temp.File("host-file");
        await File.WriteAllTextAsync(hostFile, "{\"secret\":1}");
        var folder = temp.File("attempt-1");
        AttemptFolder.Prepare(folder, owner: null);
        File.CreateSymbolicLink(Path.Combine(folder, "link.json"), hostFile);
        File.CreateSymbolicLink(Path.Combine(folder, "dangling.json"), temp.File("nothing"));
        Directory.CreateDirectory(Path.Combine(folder, "folder.json"));
        using (var mkfifo = Process.Start("mkfifo", [Path.Combine(folder, "fifo.json")]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        await File.WriteAllTextAsync(Path.Combine(folder, "plain.json"), "{}");

        foreach (var hostile in new[] { "link.json", "dangling.json", "folder.json", "fifo.json" })
        {
            await Assert.ThrowsAsync<IOException>(() => AttemptFolder.ReadTextAsync(Path.Combine(folder, hostile)));
        }

        Assert.Equal("{}", await AttemptFolder.ReadTextAsync(Path.Combine(folder, "plain.json")));
        Assert.Null(await AttemptFolder.ReadTextAsync(Path.Combine(folder, "missing.json")));
    }
}
