using Backtesting.Grains.Runners;

namespace Backtesting.Tests.Runners;

/// <summary>Backtesting:WorkerPath decides the worker's command line: every form it may take, and the mistakes.</summary>
public sealed class WorkerCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Touch(params string[] parts)
    {
        var path = Path.Combine([_temp.Path, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        return path;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void No_setting_is_the_worker_built_beside_the_silo_run_by_dotnet(string? setting)
    {
        var command = WorkerCommand.For(setting, _temp.Path);

        Assert.Equal("dotnet", command.FileName);
        Assert.Equal([Path.Combine(AppContext.BaseDirectory, "Backtesting.Worker.dll")], command.Arguments);
    }

    [Fact]
    public void A_published_apphost_is_run_itself_with_no_leading_argument()
    {
        var apphost = Touch("worker", "Backtesting.Worker");

        var command = WorkerCommand.For(apphost, "/");

        Assert.Equal(apphost, command.FileName);
        Assert.Empty(command.Arguments);
    }

    [Theory]
    [InlineData("Backtesting.Worker.dll")]
    [InlineData("Backtesting.Worker.DLL")]
    public void A_dll_is_run_by_dotnet(string name)
    {
        var dll = Touch("build", name);

        var command = WorkerCommand.For(dll, "/");

        Assert.Equal("dotnet", command.FileName);
        Assert.Equal([dll], command.Arguments);
    }

    [Fact]
    public void A_relative_path_is_taken_from_the_given_directory()
    {
        var apphost = Touch("state", "worker", "Backtesting.Worker");
        var dll = Touch("state", "other", "Backtesting.Worker.dll");

        var fromApphost = WorkerCommand.For(Path.Combine("worker", "Backtesting.Worker"), Path.Combine(_temp.Path, "state"));
        var fromDll = WorkerCommand.For(Path.Combine("..", "state", "other", "Backtesting.Worker.dll"), Path.Combine(_temp.Path, "state"));

        Assert.Equal(apphost, fromApphost.FileName);
        Assert.Empty(fromApphost.Arguments);
        Assert.Equal(("dotnet", dll), (fromDll.FileName, fromDll.Arguments.Single()));
    }

    [Fact]
    public void A_missing_file_fails_at_once_naming_the_setting_and_the_full_path()
    {
        var missing = Path.Combine(_temp.Path, "worker", "Backtesting.Worker");

        var error = Assert.Throws<FileNotFoundException>(() => WorkerCommand.For(missing, "/"));

        Assert.Contains("Backtesting:WorkerPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("no file", error.Message, StringComparison.Ordinal);
        Assert.Equal(missing, error.FileName);
    }

    [Fact]
    public void A_relative_path_to_nothing_reports_where_it_looked()
    {
        var error = Assert.Throws<FileNotFoundException>(() => WorkerCommand.For(Path.Combine("worker", "Backtesting.Worker"), _temp.Path));

        Assert.Equal(Path.Combine(_temp.Path, "worker", "Backtesting.Worker"), error.FileName);
    }

    [Fact]
    public void A_folder_is_not_a_worker()
    {
        Touch("worker", "Backtesting.Worker");

        var error = Assert.Throws<FileNotFoundException>(() => WorkerCommand.For(Path.Combine(_temp.Path, "worker"), "/"));

        Assert.Contains("a folder", error.Message, StringComparison.Ordinal);
    }
}
