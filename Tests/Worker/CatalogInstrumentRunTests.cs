using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Strategies;
using Backtesting.Worker;

namespace Backtesting.Tests.Worker;

/// <summary>
/// Every instrument the catalog lists (the list <c>GET /api/v1/instruments</c> and the dashboard's picker show) is
/// accepted by its own id and by its bare symbol, and runs through the worker: an id is valid when the catalog knows it.
/// </summary>
public class CatalogInstrumentRunTests
{
    private static readonly LeanDataProvider Data = new(TestPaths.LeanData);
    private static readonly DateOnly Today = new(2026, 11, 24);

    /// <summary>Calendar days of each short run, ending on the instrument's last day of data.</summary>
    private const int RunDays = 7;

    public static TheoryData<string> CatalogIds()
    {
        var ids = new TheoryData<string>();
        foreach (var instrument in Data.Catalog.Instruments)
        {
            ids.Add(instrument.Id);
        }

        return ids;
    }

    /// <summary>The bare symbol names the instrument itself, unless another venue lists the same symbol first.</summary>
    private static string BareSymbolOrId(Instrument instrument) =>
        Data.Catalog.TryResolve(instrument.Symbol, out var bare) && bare.Id == instrument.Id ? instrument.Symbol : instrument.Id;

    /// <summary>A short buy-and-hold over the last days of the coarsest data the instrument has.</summary>
    private static string ShortRun(string name, Instrument instrument)
    {
        var (resolution, dataType, range) = new[]
            {
                (Resolution.Daily, DataType.Bars), (Resolution.Hour, DataType.Bars),
                (Resolution.Minute, DataType.Bars), (Resolution.Tick, DataType.Ticks),
            }
            .Select(k => (k.Item1, k.Item2, Range: Data.Catalog.Availability(instrument, k.Item1, k.Item2)))
            .First(k => k.Range is not null);
        var start = new[] { range!.First, range.Last.AddDays(-RunDays) }.Max();
        var end = range.Last > start ? range.Last : start.AddDays(1);
        var ticks = dataType == DataType.Ticks;
        return JsonSerializer.Serialize(new
        {
            strategyClass = "BuyAndHold",
            startDate = start.ToString("yyyy-MM-dd"),
            endDate = end.ToString("yyyy-MM-dd"),
            instruments = new[] { name },
            initialBalance = 100_000,
            baseCurrency = "USD",
            dataConfiguration = new { resolution = resolution.ToString().ToLowerInvariant(), dataType = ticks ? "ticks" : "bars", adjustment = "raw" },
            executionSettings = new { fillModel = ticks ? "nextTick" : "nextBarOpen" },
            riskSettings = new { positionSizing = new { mode = "percentEquity", percent = 0.5 } },
        });
    }

    private static Instrument Find(string id) => Data.Catalog.Instruments.Single(i => i.Id == id);

    [Fact]
    public void The_catalog_lists_instruments_on_every_kind_of_venue()
    {
        var venues = Data.Catalog.Instruments.Select(i => i.Venue).ToHashSet();
        Assert.Superset(new HashSet<string> { "ARCA", "NYSE", "NASDAQ", "OANDA", "COINBASE" }, venues);
    }

    [Theory]
    [MemberData(nameof(CatalogIds))]
    public void Every_listed_instrument_passes_validation_by_full_id_and_by_bare_symbol(string id)
    {
        var instrument = Find(id);
        foreach (var name in new[] { id, BareSymbolOrId(instrument) })
        {
            var config = ConfigValidator.Parse(ShortRun(name, instrument)).Config!;
            var outcome = ConfigValidator.Validate(config, Data, StrategyCatalog.Templates, ValidationPolicy.Service, Today);
            Assert.True(outcome.IsValid, $"{name}: {string.Join("; ", outcome.Errors.Select(e => $"{e.Field} {e.Rule}: {e.Message}"))}");
            Assert.Equal(id, Assert.Single(outcome.Spec!.Instruments).Id);
        }
    }

    [Theory]
    [MemberData(nameof(CatalogIds))]
    public void Every_listed_instrument_completes_a_short_worker_run_by_full_id_and_by_bare_symbol(string id)
    {
        var instrument = Find(id);
        foreach (var name in new[] { id, BareSymbolOrId(instrument) })
        {
            using var temp = new TempFolder();
            var configPath = temp.File(WorkerFiles.Config);
            File.WriteAllText(configPath, ShortRun(name, instrument));
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            var code = WorkerProgram.Run(["--config", configPath, "--output", temp.File("out"), "--data", TestPaths.LeanData],
                stdout, stderr, Data);
            Assert.True(code == 0, $"{name}: exit {code}\n{stderr}");
            var lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            using var complete = JsonDocument.Parse(lines[^1]);
            Assert.Equal("backtest_complete", complete.RootElement.GetProperty("type").GetString());
            Assert.Equal("completed", complete.RootElement.GetProperty("data").GetProperty("status").GetString());
            using var results = JsonDocument.Parse(File.ReadAllText(temp.File("out/results.json")));
            Assert.True(results.RootElement.GetProperty("equityCurve").GetArrayLength() > 0, $"{name}: no equity point");
        }
    }
}
