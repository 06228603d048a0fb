using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Backtesting.Tests.Cluster;

/// <summary>
/// A PostgreSQL cluster of one test's own, on a free loopback port, for a test that restarts its database: the shared
/// test server must never go down under the other tests. Runs as <c>postgres</c> when the tests run as root (initdb
/// refuses root), as in scripts/postgres.sh.
/// </summary>
internal sealed class OwnPostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _folder;
    private readonly int _port;

    private OwnPostgres(string bin, string folder, int port)
    {
        _bin = bin;
        _folder = folder;
        _port = port;
    }

    private string Data => Path.Combine(_folder, "data");

    private string ServerOptions => $"-p {_port} -k '' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off";

    public static async Task<OwnPostgres> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderByDescending(b => b, StringComparer.Ordinal).First();
        var folder = Path.Combine("/tmp", "bt-own-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        }

        var server = new OwnPostgres(bin, folder, SiloProcesses.FreePort());
        if (RunsAsRoot)
        {
            // The server's owner writes its log beside the data.
            await Run(["chown", "postgres", folder], asOwner: false);
        }

        await server.AsOwner("mkdir", "-p", "-m", "0700", server.Data);
        await server.AsOwner(Path.Combine(bin, "initdb"), "-D", server.Data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale");
        await server.PgCtl("start", "-l", Path.Combine(folder, "postgres.log"), "-o", server.ServerOptions);
        return server;
    }

    /// <summary>A new database on this server; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        var admin = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = _port, Username = "postgres", Database = "postgres", Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary><c>pg_ctl restart -m fast</c> or <c>-m immediate</c> (a crash: the server recovers from its WAL).</summary>
    /// <remarks>The log file is named again: a server pg_ctl starts without one would hold our output pipes open.</remarks>
    public Task RestartAsync(string mode) => PgCtl("restart", "-m", mode, "-l", Path.Combine(_folder, "postgres.log"), "-o", ServerOptions);

    public void Dispose()
    {
        try
        {
            PgCtl("stop", "-m", "immediate").GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
            // Already down.
        }

        Directory.Delete(_folder, recursive: true);
    }

    private Task PgCtl(string action, params string[] arguments) =>
        AsOwner([Path.Combine(_bin, "pg_ctl"), "-D", Data, "-w", "-t", "120", action, .. arguments]);

    private static bool RunsAsRoot => string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

    private Task AsOwner(params string[] command) => Run(command, asOwner: true);

    private static async Task Run(string[] command, bool asOwner)
    {
        var asRoot = asOwner && RunsAsRoot;
        var info = new ProcessStartInfo(asRoot ? "runuser" : command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in asRoot ? ["-u", "postgres", "--", .. command] : command[1..])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        // Read both to the end before waiting: a server started in the background keeps neither open.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var said = await error + await output;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{string.Join(' ', command)} exited {process.ExitCode}: {said}"));
        }
    }
}
