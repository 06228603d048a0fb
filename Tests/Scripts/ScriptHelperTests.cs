using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Backtesting.Tests.Scripts;

/// <summary>The helpers of scripts/lib.sh that run.sh and test.sh rely on to fail loudly, called as the scripts call them.</summary>
public sealed class ScriptHelperTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("bt-scripts-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void Waiting_for_readiness_fails_with_the_reason_and_the_logs_when_nothing_answers_in_time()
    {
        var log = Write("api.log", "Unhandled exception: the database refused the connection");
        using var alive = Process.Start("sleep", "60");
        try
        {
            var (code, stderr) = Bash($"wait_until_ready http://127.0.0.1:{UnusedPort()}/health/ready 2 \"{alive.Id}\" '{log}'");
            Assert.NotEqual(0, code);
            Assert.Contains("Not ready within 2 s", stderr, StringComparison.Ordinal);
            Assert.Contains("the database refused the connection", stderr, StringComparison.Ordinal);
        }
        finally
        {
            alive.Kill();
        }
    }

    [Fact]
    public void Waiting_for_readiness_stops_at_once_when_a_process_has_exited()
    {
        var log = Write("silo.log", "the silo could not bind its port");
        using var gone = Process.Start("true")!;
        gone.WaitForExit();
        var (code, stderr) = Bash($"wait_until_ready http://127.0.0.1:{UnusedPort()}/health/ready 60 \"{gone.Id}\" '{log}'");
        Assert.NotEqual(0, code);
        Assert.Contains($"pid {gone.Id}", stderr, StringComparison.Ordinal);
        Assert.Contains("the silo could not bind its port", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_for_readiness_succeeds_once_the_address_answers()
    {
        var port = UnusedPort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serve = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            context.Response.StatusCode = 200;
            context.Response.Close();
        });
        var (code, stderr) = Bash($"wait_until_ready http://127.0.0.1:{port}/health/ready 30 \"{Environment.ProcessId}\" /dev/null");
        await serve;
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public void A_failed_build_shows_every_compiler_error_however_long_the_output()
    {
        // A stand-in dotnet: the error comes early in a long output, as a real failed build's first errors do.
        var bin = Directory.CreateDirectory(Path.Combine(_temp, "bin")).FullName;
        var lines = string.Join("\n", Enumerable.Range(1, 200).Select(i => $"echo 'note {i}'"));
        Write("bin/dotnet", $"#!/usr/bin/env bash\necho 'Engine/Core/X.cs(12,5): error CS1002: ; expected'\n{lines}\nexit 1\n");
        var (code, stderr) = Bash("build_solution -warnaserror", $"chmod +x '{bin}/dotnet'; PATH='{bin}':\"$PATH\"; cd '{_temp}'; ");
        Assert.NotEqual(0, code);
        Assert.Contains("Engine/Core/X.cs(12,5): error CS1002: ; expected", stderr, StringComparison.Ordinal);
        Assert.Contains("note 200", stderr, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_temp, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Test_totals_add_passed_failed_and_skipped_over_every_report()
    {
        Report("a", "Completed", total: 10, executed: 8, passed: 8);
        Report("b", "Failed", total: 5, executed: 5, passed: 3, failed: 2);

        Assert.Equal("11 2 2", Totals(expected: 2));
    }

    [Fact]
    public void A_test_project_without_a_report_counts_as_a_failure()
    {
        Report("a", "Completed", total: 4, executed: 4, passed: 4);

        Assert.Equal("4 1 0", Totals(expected: 2));
    }

    [Fact]
    public void A_run_that_did_not_complete_counts_as_a_failure_even_when_no_test_failed()
    {
        Report("a", "Failed", total: 3, executed: 3, passed: 3);
        Report("b", "Aborted", total: 0, executed: 0, passed: 0);

        Assert.Equal("3 2 0", Totals(expected: 2));
    }

    [Theory]
    [InlineData("error")]
    [InlineData("timeout")]
    [InlineData("aborted")]
    public void Errors_timeouts_and_aborted_tests_count_as_failures(string counter)
    {
        Report("a", "Failed", total: 3, executed: 3, passed: 1, extra: $"{counter}=\"2\"");

        Assert.Equal("1 2 0", Totals(expected: 1));
    }

    [Fact]
    public void The_failures_are_named_with_the_first_lines_of_their_messages_and_passed_tests_are_not()
    {
        File.WriteAllText(Path.Combine(_temp, "tests_a.trx"), """
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Results>
                <UnitTestResult testName="Ns.Suite.Passes" outcome="Passed" />
                <UnitTestResult testName="Ns.Suite.Theory(name: &quot;a &amp; b&quot;)" outcome="Failed">
                  <Output>
                    <ErrorInfo>
                      <Message>Assert.Equal() Failure
            Expected: 1 &lt; 2
            Actual:   3
            line four
            line five</Message>
                      <StackTrace>   at Ns.Suite.Theory()</StackTrace>
                    </ErrorInfo>
                  </Output>
                </UnitTestResult>
                <UnitTestResult testName="Ns.Suite.TimesOut" outcome="Timeout"><Output><ErrorInfo><Message>timed out</Message></ErrorInfo></Output></UnitTestResult>
              </Results>
            </TestRun>
            """);

        var lines = Failures().Split('\n');

        Assert.Equal(
            [
                "  FAILED Ns.Suite.Theory(name: \"a & b\")",
                "    Assert.Equal() Failure",
                "    Expected: 1 < 2",
                "    Actual:   3",
                "    line four",
                "  FAILED Ns.Suite.TimesOut",
                "    timed out",
            ],
            lines);
    }

    [Theory]
    [InlineData("Failed", true)]
    [InlineData("Error", true)]
    [InlineData("Timeout", true)]
    [InlineData("Aborted", true)]
    [InlineData("Passed", false)]
    [InlineData("NotExecuted", false)]
    [InlineData("Inconclusive", false)]
    public void Every_failing_outcome_is_named_even_without_a_message_and_no_other_is(string outcome, bool named)
    {
        File.WriteAllText(Path.Combine(_temp, "tests_a.trx"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Results>
                <UnitTestResult testName="Ns.Suite.Bare" outcome="{outcome}" />
                <UnitTestResult testName="Ns.Suite.Next" outcome="Passed"><Output><ErrorInfo><Message>not a failure</Message></ErrorInfo></Output></UnitTestResult>
              </Results>
            </TestRun>
            """);

        Assert.Equal(named ? "  FAILED Ns.Suite.Bare" : "", Failures());
    }

    private string Failures()
    {
        var lib = Path.Combine(TestPaths.RepositoryRoot, "scripts", "lib.sh");
        var start = new ProcessStartInfo("bash", ["-c", $"source '{lib}'; trx_failures '{_temp}'"])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().TrimEnd('\n');
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }

    private void Report(string name, string outcome, int total, int executed, int passed, int failed = 0, string extra = "") =>
        File.WriteAllText(Path.Combine(_temp, $"tests_{name}.trx"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <ResultSummary outcome="{outcome}">
                <Counters total="{total}" executed="{executed}" passed="{passed}" failed="{failed}" {extra} notExecuted="0" />
              </ResultSummary>
            </TestRun>
            """);

    private string Totals(int expected)
    {
        var lib = Path.Combine(TestPaths.RepositoryRoot, "scripts", "lib.sh");
        var start = new ProcessStartInfo("bash", ["-c", $"source '{lib}'; trx_totals '{_temp}' {expected}"])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }

    private static int UnusedPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private static (int ExitCode, string Stderr) Bash(string command, string prelude = "")
    {
        var lib = Path.Combine(TestPaths.RepositoryRoot, "scripts", "lib.sh");
        var start = new ProcessStartInfo("bash", ["-c", $"source '{lib}'; {prelude}{command}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stderr.Result);
    }
}
