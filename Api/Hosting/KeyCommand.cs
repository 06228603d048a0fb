using Backtesting.Engine.Configuration;
using Backtesting.Storage;
using Npgsql;

namespace Backtesting.Api.Hosting;

/// <summary>
/// <c>create-key</c>: stores an API key with its role for a user (creating the user when new) and prints it once. Uses the
/// same connection settings as the API; applies the schema first so it works on a fresh database.
/// </summary>
public static class KeyCommand
{
    public const string Verb = "create-key";

    public static async Task<int> RunAsync(string[] args)
    {
        string? user = null, key = null, label = null;
        var role = ApiRoles.User;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--user": user = value; i++; break;
                case "--role": role = value ?? ""; i++; break;
                case "--key": key = value; i++; break;
                case "--label": label = value; i++; break;
                default:
                    await Console.Error.WriteLineAsync($"unknown option '{args[i]}'");
                    return Usage();
            }
        }

        if (string.IsNullOrWhiteSpace(user))
        {
            return Usage();
        }

        if ((ConfigValidator.UserId(user, "--user") ?? ConfigValidator.Label(label, "--label")) is { } bad)
        {
            await Console.Error.WriteLineAsync(bad.Message);
            return 2;
        }

        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var connectionString = Settings.ConnectionString(configuration);
        await SchemaMigrator.ApplyAsync(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        key ??= ApiKeyStore.GenerateKey();
        try
        {
            if (await new ApiKeyStore(dataSource).AddKeyAsync(user, role, key, label) is null)
            {
                await Console.Error.WriteLineAsync("that key was revoked and stays revoked: leave out --key to get a new one");
                return 2;
            }
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        Console.WriteLine(key);
        return 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Backtesting.Api create-key --user NAME [--role user|admin] [--key KEY] [--label TEXT]");
        return 2;
    }
}
