using Backtesting.Engine.Data;
using Backtesting.Grains.Interfaces;
using Backtesting.Storage;

namespace Backtesting.Api.Hosting;

/// <summary>Reads the settings the API shares with the silos, under the same names.</summary>
public static class Settings
{
    /// <summary>The database, found as the silos find it (<see cref="DatabaseConnection"/>).</summary>
    public static string ConnectionString(IConfiguration configuration) =>
        DatabaseConnection.Resolve(configuration.GetConnectionString(DatabaseConnection.Name));

    /// <summary>Backtesting:DataDirectory (the silos' setting), else the data folder found like the worker finds it.</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        DataRoot.Locate(configuration["Backtesting:DataDirectory"] is { Length: > 0 } configured ? configured : null)
        ?? throw new DirectoryNotFoundException("no market data folder: set Backtesting__DataDirectory or BACKTESTING_DATA");

    public static string ClusterId(IConfiguration configuration) =>
        configuration[$"{ClusterIdentity.Section}:ClusterId"] ?? ClusterIdentity.DefaultClusterId;

    public static string ServiceId(IConfiguration configuration) =>
        configuration[$"{ClusterIdentity.Section}:ServiceId"] ?? ClusterIdentity.DefaultServiceId;
}
