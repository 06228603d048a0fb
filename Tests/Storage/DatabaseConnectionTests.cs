using Backtesting.Storage;

namespace Backtesting.Tests.Storage;

/// <summary>The one rule by which the silos, the API and the key command find the database.</summary>
public sealed class DatabaseConnectionTests
{
    [Fact]
    public void The_configured_connection_string_wins_over_the_environment() =>
        Assert.Equal("Host=a", DatabaseConnection.Resolve("Host=a", "Host=b"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void An_unset_or_empty_configured_string_falls_back_to_the_environment(string? configured) =>
        Assert.Equal("Host=b", DatabaseConnection.Resolve(configured, "Host=b"));

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData(null, "")]
    [InlineData("", null)]
    public void Nothing_set_or_only_empty_values_is_an_error_that_names_both_settings(string? configured, string? fromEnvironment)
    {
        var error = Assert.Throws<InvalidOperationException>(() => DatabaseConnection.Resolve(configured, fromEnvironment));
        Assert.Contains("ConnectionStrings__Backtesting", error.Message, StringComparison.Ordinal);
        Assert.Contains("BACKTESTING_DB", error.Message, StringComparison.Ordinal);
    }
}
