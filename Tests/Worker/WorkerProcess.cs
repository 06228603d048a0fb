using System.Diagnostics;
using System.Text.Json;

namespace Backtesting.Tests.Worker;

/// <summary>Runs the real worker program as a child process, the way the process and Docker runners do.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private WorkerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_stdout)
            {
                _stdout.Add(e.Data);
            }

            _lineArrived.Release();
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "Backtesting.Worker.dll");

    public static WorkerProcess Start(params string[] args) => StartWith(null, args);

    /// <summary>Starts the worker with extra environment variables (e.g. DOTNET_GCHeapHardLimit).</summary>
    public static WorkerProcess StartWith(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(WorkerDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return new WorkerProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start the worker"));
    }

    /// <summary>Runs to the end and returns the exit code.</summary>
    public static (int ExitCode, IReadOnlyList<string> Stdout, string Stderr) Run(params string[] args) => RunWith(null, args);

    public static (int ExitCode, IReadOnlyList<string> Stdout, string Stderr) RunWith(IReadOnlyDictionary<string, string>? environment,
        params string[] args)
    {
        using var worker = StartWith(environment, args);
        var code = worker.WaitForExit(TimeSpan.FromMinutes(2));
        return (code, worker.Lines, worker.Stderr);
    }

    public int Pid => _process.Id;

    /// <summary>Closes the worker's stdin, as happens when its supervisor dies.</summary>
    public void CloseStdin() => _process.StandardInput.Close();

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToList();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Waits until a stdout line satisfies the predicate; false when the process ended first.</summary>
    public bool WaitForLine(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Lines.Any(predicate))
            {
                return true;
            }

            if (_process.HasExited && !_lineArrived.Wait(50))
            {
                return Lines.Any(predicate);
            }

            _lineArrived.Wait(TimeSpan.FromMilliseconds(50));
        }

        return false;
    }

    /// <summary>Sends a POSIX signal (STOP, CONT, TERM, KILL) with the system's kill command.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed");
        }
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException("the worker did not exit in time");
        }

        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    public static JsonElement Parse(string line) => JsonDocument.Parse(line).RootElement;

    public static string TypeOf(string line) => Parse(line).GetProperty("type").GetString()!;
}
