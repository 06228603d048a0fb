using System.Text.Json;
using Backtesting.Tests.Configuration;
using static Backtesting.Tests.Worker.WorkerProcess;

namespace Backtesting.Tests.Worker;

/// <summary>
/// The worker end to end: JPY and CHF accounts on exchange-rate series imported with <c>worker import --fx</c>, and a
/// minute run whose progress, processed bars and data-quality counts agree.
/// </summary>
public class ImportedFxAndSessionWorkerTests
{
    /// <summary>A data folder with the calendars, symbol properties and SPY's daily bars, and no bundled FX series.</summary>
    private static string SpyOnlyDataFolder(TempFolder temp)
    {
        var root = temp.File("data");
        foreach (var relative in new[]
                 {
                     "market-hours/market-hours-database.json", "equity/usa/daily/spy.zip", "equity/usa/factor_files/spy.csv",
                     "equity/usa/primary-listings.csv",
                 }.Concat(Directory.GetFiles(TestPaths.Lean("symbol-properties")).Select(f => "symbol-properties/" + Path.GetFileName(f))))
        {
            var target = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(TestPaths.Lean(relative.Split('/')), target);
        }

        return root;
    }

    /// <summary>A constant daily rate on every day of 2019 (weekends too, as forex series have Sundays).</summary>
    private static string RateCsv(TempFolder temp, string pair, double rate)
    {
        var path = temp.File(pair.ToLowerInvariant() + ".csv");
        var lines = new List<string> { "timestamp,open,high,low,close,volume" };
        for (var day = new DateOnly(2019, 1, 1); day <= new DateOnly(2019, 12, 31); day = day.AddDays(1))
        {
            lines.Add(FormattableString.Invariant($"{day:yyyy-MM-dd},{rate},{rate},{rate},{rate},0"));
        }

        File.WriteAllLines(path, lines);
        return path;
    }

    private static JsonElement RunSpy(TempFolder temp, string root, string currency, double balance, string output)
    {
        var config = ValidationTests.SeedExample.Replace("2010-01-01", "2019-01-02").Replace("2020-12-31", "2019-12-31")
            .Replace("\"baseCurrency\":\"USD\"", $"\"baseCurrency\":\"{currency}\"")
            .Replace("\"initialBalance\":100000", FormattableString.Invariant($"\"initialBalance\":{balance}"));
        var path = temp.File(output + ".json");
        File.WriteAllText(path, config);
        var (code, _, stderr) = Run("--config", path, "--output", temp.File(output), "--data", root);
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(File.ReadAllText(temp.File(output + "/results.json"))).RootElement;
    }

    [Theory]
    // USDJPY is read as it stands (JPY per USD); CHFUSD (USD per CHF) is read inverted.
    [InlineData("USDJPY", 110.0, "JPY", 110.0)]
    [InlineData("CHFUSD", 1.25, "CHF", 0.8)]
    public void A_yen_or_franc_account_runs_on_an_imported_exchange_rate_series(string pair, double rate, string currency, double perDollar)
    {
        using var temp = new TempFolder();
        var root = SpyOnlyDataFolder(temp);
        var (importCode, importOut, importErr) = Run("import", "--file", RateCsv(temp, pair, rate), "--fx", pair, "--data", root);
        Assert.True(importCode == 0, importErr);
        Assert.Contains($"{pair}.FX", Assert.Single(importOut));

        var dollars = RunSpy(temp, root, "USD", 100_000, "usd");
        var local = RunSpy(temp, root, currency, 100_000 * perDollar, "local");

        // At a constant rate the account in the other currency is the dollar account scaled by the rate, trade for trade.
        Assert.Contains($"imported daily close: {pair}", local.GetProperty("fxRateSource").GetString());
        Assert.Equal(dollars.GetProperty("trades").GetArrayLength(), local.GetProperty("trades").GetArrayLength());
        Assert.True(local.GetProperty("trades").GetArrayLength() > 0);
        var usdFinal = dollars.GetProperty("summary").GetProperty("finalBalance").GetDouble();
        var localFinal = local.GetProperty("summary").GetProperty("finalBalance").GetDouble();
        Assert.Equal(usdFinal * perDollar, localFinal, 1e-6 * localFinal);
        Assert.Equal(dollars.GetProperty("summary").GetProperty("totalReturn").GetDouble(),
            local.GetProperty("summary").GetProperty("totalReturn").GetDouble(), 1e-9);
        Assert.Equal(currency, local.GetProperty("summary").GetProperty("baseCurrency").GetString());
    }

    [Fact]
    public void Without_an_imported_series_a_yen_account_is_refused()
    {
        using var temp = new TempFolder();
        var root = SpyOnlyDataFolder(temp);
        var path = temp.File("jpy.json");
        File.WriteAllText(path, ValidationTests.SeedExample.Replace("\"baseCurrency\":\"USD\"", "\"baseCurrency\":\"JPY\""));
        var (code, _, stderr) = Run("--config", path, "--output", temp.File("out"), "--data", root);
        Assert.Equal(2, code);
        Assert.Contains("fxAvailability", stderr);
    }

    [Theory]
    [InlineData("--fx", "USDJPY", "--currency", "USD")]
    [InlineData("--fx", "USDJP")]
    [InlineData("--fx", "USDJPY", "--symbol", "USDJPY")]
    public void An_fx_import_refuses_a_contradiction_or_a_malformed_pair(params string[] options)
    {
        using var temp = new TempFolder();
        var root = SpyOnlyDataFolder(temp);
        var (code, _, stderr) = Run(["import", "--file", RateCsv(temp, "USDJPY", 110), "--data", root, .. options]);
        Assert.NotEqual(0, code);
        Assert.False(string.IsNullOrWhiteSpace(stderr));
        Assert.False(Directory.Exists(Path.Combine(root, "custom")));
    }

    [Fact]
    public void An_fx_import_refuses_intraday_rows_before_writing_anything()
    {
        using var temp = new TempFolder();
        var root = SpyOnlyDataFolder(temp);
        var csv = temp.File("intraday.csv");
        File.WriteAllLines(csv, ["timestamp,open,high,low,close,volume", "2019-01-02T10:00:00Z,110,110,110,110,0", "2019-01-02T11:00:00Z,110,110,110,110,0"]);
        var (code, _, stderr) = Run("import", "--file", csv, "--fx", "USDJPY", "--data", root);
        Assert.Equal(2, code);
        Assert.Contains("daily bars are needed", stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "custom")));
    }

    [Fact]
    public void A_minute_run_reports_the_same_bar_count_in_progress_summary_and_data_quality()
    {
        using var temp = new TempFolder();
        var path = temp.File("minute.json");
        File.WriteAllText(path, """
            {"strategyClass":"MovingAverageCross","strategyConfig":{"fastPeriod":10,"slowPeriod":30},
             "startDate":"2013-10-07","endDate":"2013-10-11","instruments":["SPY"],
             "dataConfiguration":{"resolution":"minute","adjustment":"raw"},
             "riskSettings":{"positionSizing":{"mode":"fixedQuantity","quantity":10}}}
            """);
        var (code, lines, stderr) = Run("--config", path, "--output", temp.File("out"), "--data", TestPaths.LeanData);
        Assert.True(code == 0, stderr);
        var last = lines.Where(l => TypeOf(l) == "backtest_progress").Select(l => Parse(l).GetProperty("data").GetProperty("progress")).Last();
        using var results = JsonDocument.Parse(File.ReadAllText(temp.File("out/results.json")));
        var processed = results.RootElement.GetProperty("summary").GetProperty("processedBars").GetInt64();
        // Five regular sessions of 390 minutes; the pre- and post-market bars of the files are not counted anywhere.
        Assert.Equal(5 * 390, processed);
        Assert.Equal(processed, last.GetProperty("processedBars").GetInt64());
        Assert.Equal(processed, last.GetProperty("totalBars").GetInt64());
        var quality = Assert.Single(results.RootElement.GetProperty("dataQuality").EnumerateArray());
        Assert.Equal(processed, quality.GetProperty("totalRead").GetInt64());
        Assert.Equal(processed, quality.GetProperty("kept").GetInt64());
    }
}
