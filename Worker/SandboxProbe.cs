using System.Net.Sockets;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Protocol;

namespace Backtesting.Worker;

/// <summary>
/// <c>worker sandbox-probe [--connect host:port]... [--write path]...</c>: tries to open each TCP connection and
/// to create each file, and prints one JSON object saying what happened to each. A diagnostic for the Docker
/// runner's sandbox: run in the worker image with the runner's own container settings, it shows from inside
/// what the sandbox allows. It changes nothing but the files it manages to create (and deletes them).
/// </summary>
public static class SandboxProbe
{
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var connections = new Dictionary<string, string>();
        var writes = new Dictionary<string, string>();
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            switch (args[i])
            {
                case "--connect" when value is not null:
                    connections[value] = TryConnect(value);
                    i++;
                    break;
                case "--write" when value is not null:
                    writes[value] = TryWrite(value);
                    i++;
                    break;
                default:
                    stderr.WriteLine("usage: worker sandbox-probe [--connect host:port]... [--write path]...");
                    return ExitCodes.Usage;
            }
        }

        stdout.WriteLine(JsonSerializer.Serialize(new { connect = connections, write = writes }, JsonDefaults.Options));
        stdout.Flush();
        return ExitCodes.Completed;
    }

    /// <returns>"connected", or the error.</returns>
    private static string TryConnect(string target)
    {
        var colon = target.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(target[(colon + 1)..], out var port))
        {
            return "error: expected host:port";
        }

        try
        {
            using var client = new TcpClient();
            if (!client.ConnectAsync(target[..colon], port).Wait(TimeSpan.FromSeconds(5)))
            {
                return "error: timed out";
            }

            return "connected";
        }
        catch (Exception e) when (e is SocketException or AggregateException)
        {
            return "error: " + e.GetBaseException().Message;
        }
    }

    /// <returns>"written" (the file was created, then deleted), or the error.</returns>
    private static string TryWrite(string path)
    {
        try
        {
            File.WriteAllText(path, "probe");
            File.Delete(path);
            return "written";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "error: " + e.Message;
        }
    }
}
