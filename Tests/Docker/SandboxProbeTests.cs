using System.Globalization;
using System.Runtime.Versioning;
using Backtesting.Grains.Runners;
using Docker.DotNet.Models;
using Backtesting.Engine;

namespace Backtesting.Tests.Docker;

/// <summary>
/// The sandbox as an attacker who has already escaped the .NET sandbox finds it: a shell (busybox) runs in a
/// container built by the runner's own code (<see cref="DockerRunner.ContainerFor"/>, only the image and the
/// command swapped for the probe's), tries what hostile code would try, and reports what happened. The probes
/// run once per kind of run (a backtest, and an optimization batch of a custom strategy, whose container is made for its
/// own request and CPU grant); each test states one thing they showed, for each kind.
/// </summary>
[Collection("cluster")]
[SupportedOSPlatform("linux")]
public class SandboxProbeTests
{
    private const string Busybox = "/busybox";

    /// <summary>What the shell tries, one "key=value" line each; "ok" or "refused" for an attempt.</summary>
    private const string Probes = """
        B=/busybox
        try() { if "$@" >/dev/null 2>&1; then echo ok; else echo refused; fi; }
        echo "uid=$($B id -u)"
        echo "gid=$($B id -g)"
        echo "groups=$($B id -G)"
        for dir in / /etc /app /usr /data /output /tmp; do echo "write:$dir=$(try $B touch $dir/probe)"; done
        echo "chown-to-root=$(try $B chown 0:0 /output/probe)"
        echo "setuid-bit=$(try $B chmod u+s /output/probe)"
        echo "mknod=$(try $B mknod /tmp/null c 1 3)"
        echo "mount=$(try $B mount -t tmpfs none /tmp)"
        echo "sysctl=$(try $B sh -c 'echo 1 > /proc/sys/kernel/sysrq')"
        echo "read:/etc/shadow=$(try $B cat /etc/shadow)"
        echo "exists:/var/run/docker.sock=$(try $B test -e /var/run/docker.sock)"
        echo "exists:/dev/shm=$(try $B test -e /dev/shm)"
        echo "etc=$($B ls /etc | $B tr '\n' ' ')"
        echo "devices=$($B ls /dev | $B tr '\n' ' ')"
        echo "kcore-bytes=$($B head -c 16 /proc/kcore 2>/dev/null | $B wc -c)"
        $B cp $B /tmp/copy && $B chmod 755 /tmp/copy
        echo "exec:/tmp=$(try /tmp/copy true)"
        $B dd if=/dev/zero of=/tmp/fill bs=1048576 count=256 >/dev/null 2>&1
        echo "tmp-filled-bytes=$($B stat -c %s /tmp/fill)"
        $B rm -f /tmp/fill /tmp/copy
        echo "nofile=$(ulimit -n)"
        echo "interfaces=$($B ls /sys/class/net | $B tr '\n' ' ')"
        $B grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | $B sed -E 's/:[[:space:]]+/=/'
        $B tr '\0' '\n' < /proc/1/environ | $B sed 's/^/env:/'
        $B sed -E 's/^[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ ([^ ]+) .* - ([^ ]+) .*$/mount:\1=\2/' /proc/self/mountinfo
        """;

    /// <summary>Starts children until the pids limit stops it; the shell dies when a fork fails, after its last count.</summary>
    private const string ForkBomb = """
        i=0
        while [ $i -lt 5000 ]; do /busybox sleep 60 & i=$((i+1)); echo "forks=$i"; done
        echo "unbounded"
        """;

    /// <summary>File systems of the kernel's own (no host folder behind them).</summary>
    private static readonly HashSet<string> PseudoFileSystems = ["proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2"];

    /// <summary>The only mounts from the host's disks: the image's root, Docker's three name files, the data and the attempt's folder.</summary>
    private static readonly HashSet<string> HostMounts =
        ["/", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", DockerSandbox.DataMount, DockerSandbox.OutputMount];

    public static TheoryData<string> Kinds => RunKinds.All;

    private static readonly Dictionary<string, Lazy<Task<Probe>>> Reports = new()
    {
        [RunKinds.Backtest] = new(() => Run(Probes, RunKinds.Backtest)),
        [RunKinds.Batch] = new(() => Run(Probes, RunKinds.Batch)),
    };

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task Code_in_a_worker_container_runs_as_the_configured_non_root_user(string kind)
    {
        var probe = await Reports[kind].Value;
        var user = ContainerUser.Parse(new DockerRunnerOptions().User);
        Assert.Equal(user.Uid.ToString(CultureInfo.InvariantCulture), probe["uid"]);
        Assert.Equal(user.Gid.ToString(CultureInfo.InvariantCulture), probe["gid"]);
        Assert.Equal(user.Gid.ToString(CultureInfo.InvariantCulture), probe["groups"]);
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task Code_in_a_worker_container_holds_no_capability_and_cannot_gain_privileges(string kind)
    {
        var probe = await Reports[kind].Value;
        foreach (var set in new[] { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" })
        {
            Assert.Equal("0000000000000000", probe[set]);
        }

        Assert.Equal("1", probe["NoNewPrivs"]);
        Assert.Equal("2", probe["Seccomp"]); // Docker's default seccomp filter is in force
        foreach (var attempt in new[] { "chown-to-root", "mknod", "mount", "sysctl" })
        {
            Assert.True(probe[attempt] == "refused", $"{attempt} was allowed");
        }
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task Code_in_a_worker_container_can_write_only_its_output_folder_and_tmp(string kind)
    {
        var probe = await Reports[kind].Value;
        foreach (var dir in new[] { "/", "/etc", "/app", "/usr", DockerSandbox.DataMount })
        {
            Assert.True(probe[$"write:{dir}"] == "refused", $"{dir} was writable");
        }

        Assert.Equal("ok", probe[$"write:{DockerSandbox.OutputMount}"]);
        Assert.Equal("ok", probe["write:/tmp"]);
        Assert.False(File.Exists(Path.Combine(TestPaths.LeanData, "probe")));
        // A set-uid bit on its own file is harmless: no-new-privileges and no capabilities make it inert.
        Assert.Equal("ok", probe["setuid-bit"]);
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task Tmp_in_a_worker_container_is_size_limited_and_cannot_run_programs(string kind)
    {
        var probe = await Reports[kind].Value;
        var limit = TmpfsBytes(new DockerRunnerOptions().TmpfsSize);
        var filled = long.Parse(probe["tmp-filled-bytes"], CultureInfo.InvariantCulture);
        Assert.InRange(filled, 1, limit); // 256 MB were asked for
        Assert.Equal("refused", probe["exec:/tmp"]);
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task A_worker_container_sees_no_host_folder_but_the_data_and_its_own_output(string kind)
    {
        var probe = await Reports[kind].Value;
        var mounts = probe.All("mount:");
        Assert.Contains(DockerSandbox.DataMount, mounts.Keys);
        Assert.Contains(DockerSandbox.OutputMount, mounts.Keys);
        foreach (var (point, type) in mounts)
        {
            Assert.True(PseudoFileSystems.Contains(type) || HostMounts.Contains(point), $"{point} ({type}) is mounted from the host");
        }

        Assert.Equal("refused", probe["exists:/var/run/docker.sock"]);
        Assert.Equal("refused", probe["exists:/dev/shm"]); // no IPC namespace shared with anything
        Assert.Equal("refused", probe["read:/etc/shadow"]);
        Assert.Equal(["group", "hostname", "hosts", "mtab", "passwd", "resolv.conf"], probe["etc"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Equal(["full", "mqueue", "null", "pts", "random", "tty", "urandom", "zero"],
            probe["devices"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(d => !d.StartsWith("core", StringComparison.Ordinal)
                && d is not ("fd" or "stdin" or "stdout" or "stderr" or "ptmx")).Order());
        Assert.Equal("0", probe["kcore-bytes"]); // the kernel's memory is masked
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task The_environment_of_a_worker_container_holds_only_the_allowed_variables(string kind)
    {
        var probe = await Reports[kind].Value;
        Assert.Equal(DockerSandbox.VisibleEnvironment(kind == RunKinds.Batch).OrderBy(v => v.Key), probe.All("env:").OrderBy(v => v.Key));
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task A_worker_container_has_no_network_interface_but_loopback_and_a_bounded_number_of_files(string kind)
    {
        var probe = await Reports[kind].Value;
        Assert.Equal("lo", probe["interfaces"].Trim());
        Assert.Equal(DockerSandbox.OpenFilesLimit.ToString(CultureInfo.InvariantCulture), probe["nofile"]);
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task A_fork_bomb_in_a_worker_container_stops_at_the_pids_limit(string kind)
    {
        var probe = await Run(ForkBomb, kind);
        var forks = long.Parse(probe["forks"], CultureInfo.InvariantCulture);
        Assert.InRange(forks, 1, new DockerRunnerOptions().PidsLimit);
        Assert.False(probe.Has("unbounded"));
        Assert.Contains("fork", probe.Stderr, StringComparison.Ordinal);
    }

    [DockerTheory]
    [MemberData(nameof(Kinds))]
    public async Task The_attempt_folder_is_owned_by_the_container_user_and_closed_to_everyone_else(string kind)
    {
        var probe = await Reports[kind].Value;
        var user = ContainerUser.Parse(new DockerRunnerOptions().User);
        Assert.Equal(AttemptFolder.FolderMode, probe.FolderMode);
        Assert.Equal((user.Uid, user.Gid), probe.FolderOwner);
        Assert.Equal((user.Uid, user.Gid), probe.WrittenFileOwner); // what the container wrote
    }

    private static (int, int) Owner(string path)
    {
        // stat(1) rather than a P/Invoke: the test reads what the file system says.
        var info = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u %g", path]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        var ids = process.StandardOutput.ReadToEnd().Trim().Split(' ');
        process.WaitForExit();
        return (int.Parse(ids[0], CultureInfo.InvariantCulture), int.Parse(ids[1], CultureInfo.InvariantCulture));
    }

    private static long TmpfsBytes(string size) =>
        long.Parse(size[..^1], CultureInfo.InvariantCulture) * char.ToLowerInvariant(size[^1]) switch
        {
            'k' => 1024L,
            'm' => ByteSize.MiB,
            'g' => 1024 * ByteSize.MiB,
            _ => throw new FormatException($"unexpected tmpfs size {size}"),
        };

    /// <summary>Runs a busybox shell script in a container made by the runner's own code for a run of that kind, with a fresh attempt folder.</summary>
    private static async Task<Probe> Run(string script, string kind)
    {
        using var temp = new TempFolder();
        var output = Path.Combine(temp.Path, "attempt-1");
        using var runner = DockerTestEnvironment.Runner("sandbox-probe");
        DockerTestEnvironment.PrepareFolder(output); // as the runner opens an attempt's folder
        var parameters = runner.ContainerFor(RunKinds.Request(kind, output), ["sh", "-c", script]);
        parameters.Image = DockerTestEnvironment.ProbeImage;
        parameters.Entrypoint = [Busybox];

        using var client = DockerTestEnvironment.Client();
        var container = await client.Containers.CreateContainerAsync(parameters);
        try
        {
            await client.Containers.StartContainerAsync(container.ID, new ContainerStartParameters());
            await client.Containers.WaitContainerAsync(container.ID);
            using var logs = await client.Containers.GetContainerLogsAsync(container.ID, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true });
            var (stdout, stderr) = await logs.ReadOutputToEndAsync(CancellationToken.None);
            var written = Path.Combine(output, "probe");
            return new Probe(stdout, stderr, File.GetUnixFileMode(output), Owner(output), File.Exists(written) ? Owner(written) : null);
        }
        finally
        {
            await runner.RemoveAsync(container.ID, CancellationToken.None);
        }
    }

    /// <summary>The probe's report: the last value of each key, and how the attempt folder looked on the host afterwards.</summary>
    private sealed class Probe(string stdout, string stderr, UnixFileMode folderMode, (int, int) folderOwner, (int, int)? writtenFileOwner)
    {
        private readonly List<KeyValuePair<string, string>> _lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Select(p => KeyValuePair.Create(p[0], p.Length > 1 ? p[1] : ""))
            .ToList();

        public string Stderr => stderr;

        public UnixFileMode FolderMode => folderMode;

        public (int Uid, int Gid) FolderOwner => folderOwner;

        public (int Uid, int Gid)? WrittenFileOwner => writtenFileOwner;

        public bool Has(string key) => _lines.Any(l => l.Key == key);

        public string this[string key] => _lines.LastOrDefault(l => l.Key == key).Value
            ?? throw new KeyNotFoundException($"the probe reported no {key}; it printed:\n{stdout}\n{stderr}");

        /// <summary>Every line whose key starts with the prefix, by the rest of the key.</summary>
        public Dictionary<string, string> All(string prefix) => _lines.Where(l => l.Key.StartsWith(prefix, StringComparison.Ordinal))
            .GroupBy(l => l.Key[prefix.Length..]).ToDictionary(g => g.Key, g => g.Last().Value);
    }
}
