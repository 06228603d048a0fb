using System.Globalization;

namespace Backtesting.Benchmarks;

/// <summary>
/// CPU time read from /proc (Linux): a process's own time (utime + stime) and the time of its children it has waited
/// for (cutime + cstime, where a silo's finished workers and a postmaster's finished backends land), and the machine's
/// busy and total time from /proc/stat. Seconds; zero where /proc is missing.
/// </summary>
internal static class ProcCpu
{
    // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)); /proc reports ticks of it.
    private const double TicksPerSecond = 100;

    public readonly record struct ProcessCpu(double Own, double Children)
    {
        public static ProcessCpu operator -(ProcessCpu a, ProcessCpu b) => new(a.Own - b.Own, a.Children - b.Children);
    }

    /// <summary>The process's CPU, or zeros when it is gone.</summary>
    public static ProcessCpu Of(int pid)
    {
        var fields = StatFields(pid);
        return fields is null ? default
            : new ProcessCpu((Ticks(fields, 14) + Ticks(fields, 15)) / TicksPerSecond, (Ticks(fields, 16) + Ticks(fields, 17)) / TicksPerSecond);
    }

    /// <summary>The processes whose parent is <paramref name="parent"/>.</summary>
    public static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.Exists("/proc") ? Directory.EnumerateDirectories("/proc") : [])
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && StatFields(pid) is { } fields && fields.Length > 4
                && int.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) && ppid == parent)
            {
                yield return pid;
            }
        }
    }

    /// <summary>
    /// A process tree's CPU so far: the root's own and waited-for children's time, plus the own time of every live
    /// descendant (a worker still running, a backend still connected).
    /// </summary>
    public static double Tree(int root)
    {
        var cpu = Of(root);
        var total = cpu.Own + cpu.Children;
        foreach (var child in ChildrenOf(root))
        {
            total += LiveTree(child);
        }

        return total;
    }

    private static double LiveTree(int pid)
    {
        var total = Of(pid).Own;
        foreach (var child in ChildrenOf(pid))
        {
            total += LiveTree(child);
        }

        return total;
    }

    /// <summary>The machine's (busy, total) CPU seconds summed over all cores, from the first line of /proc/stat.</summary>
    public static (double Busy, double Total) Machine()
    {
        if (!File.Exists("/proc/stat"))
        {
            return (0, 0);
        }

        var parts = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]
            .Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest times are inside user already)
        var total = parts.Take(8).Sum();
        var idle = parts[3] + parts[4];
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }

    /// <summary>The PostgreSQL server listening on <paramref name="port"/>: its postmaster's pid, found by its command line.</summary>
    public static int? Postmaster(int port)
    {
        foreach (var dir in Directory.Exists("/proc") ? Directory.EnumerateDirectories("/proc") : [])
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var p = Array.IndexOf(commandLine, "-p");
                if (p >= 0 && p + 1 < commandLine.Length && commandLine[p + 1] == port.ToString(CultureInfo.InvariantCulture)
                    && Path.GetFileName(commandLine[0]) is "postgres" or "postmaster"
                    && int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
            catch (UnauthorizedAccessException)
            {
                // not readable
            }
        }

        return null;
    }

    public static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The fields of /proc/pid/stat, 1-based as proc(5) numbers them (index 0 unused), or null.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
            var close = text.LastIndexOf(')');
            return ["", "", "", .. text[(close + 2)..].Split(' ')];
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Ticks(string[] fields, int field) =>
        fields.Length > field ? double.Parse(fields[field], CultureInfo.InvariantCulture) : 0;
}
