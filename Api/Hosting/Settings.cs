using Backtesting.Engine.Data;
using Backtesting.Grains.Interfaces;

namespace Backtesting.Api.Hosting;

/// <summary>Reads the settings the API shares with the silos, under the same names.</summary>
public static class Settings
{
    /// <summary>ConnectionStrings:Backtesting, else BACKTESTING_DB (as the silo reads it).</summary>
    public static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Backtesting") is { Length: > 0 } configured
            ? configured
            : Environment.GetEnvironmentVariable("BACKTESTING_DB") is { Length: > 0 } fromEnvironment
                ? fromEnvironment
                : throw new InvalidOperationException("set ConnectionStrings__Backtesting or BACKTESTING_DB");

    /// <summary>Backtesting:DataDirectory (the silos' setting), else the data folder found like the worker finds it.</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        DataRoot.Locate(configuration["Backtesting:DataDirectory"] is { Length: > 0 } configured ? configured : null)
        ?? throw new DirectoryNotFoundException("no market data folder: set Backtesting__DataDirectory or BACKTESTING_DATA");

    public static string ClusterId(IConfiguration configuration) =>
        configuration[$"{ClusterIdentity.Section}:ClusterId"] ?? ClusterIdentity.DefaultClusterId;

    public static string ServiceId(IConfiguration configuration) =>
        configuration[$"{ClusterIdentity.Section}:ServiceId"] ?? ClusterIdentity.DefaultServiceId;
}
