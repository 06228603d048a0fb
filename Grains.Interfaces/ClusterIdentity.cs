namespace Backtesting.Grains.Interfaces;

/// <summary>
/// How silos and clients find one cluster: the configuration section both read, its defaults, and the ADO.NET
/// invariant of the membership table. One home, so an API and a silo started with the same settings meet.
/// </summary>
public static class ClusterIdentity
{
    /// <summary>The configuration section with ClusterId and ServiceId (environment: Silo__ClusterId, ...).</summary>
    public const string Section = "Silo";
    public const string DefaultClusterId = "backtesting-local";
    public const string DefaultServiceId = "backtesting";
    /// <summary>The ADO.NET provider name Orleans' AdoNet providers use for PostgreSQL.</summary>
    public const string AdoNetInvariant = "Npgsql";
}
