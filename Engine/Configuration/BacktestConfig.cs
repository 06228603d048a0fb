using System.Text.Json;
using System.Text.Json.Serialization;

namespace Backtesting.Engine.Configuration;

// The seed's BacktestConfig, camelCase on the wire. Enumerated settings are kept as strings here so
// that validation can report every bad value with its field at once (a typed enum would make the
// JSON reader stop at the first one); BacktestSpec holds the typed, validated form.
// Every field's default and meaning is documented in docs/configuration.md.

public sealed record BacktestConfig
{
    public string StrategyClass { get; init; } = "";
    public Dictionary<string, JsonElement> StrategyConfig { get; init; } = new();
    public string StartDate { get; init; } = "";
    public string EndDate { get; init; } = "";
    public List<string> Instruments { get; init; } = new();
    public List<string> Venues { get; init; } = new();
    public double InitialBalance { get; init; } = 100_000;
    public string BaseCurrency { get; init; } = "USD";
    /// <summary>cash | margin.</summary>
    public string AccountType { get; init; } = "cash";
    /// <summary>Annual risk-free rate used by Sharpe, Sortino and alpha (0.02 = 2%).</summary>
    public double RiskFreeRate { get; init; }
    public DataConfiguration DataConfiguration { get; init; } = new();
    public ExecutionSettings ExecutionSettings { get; init; } = new();
    public RiskSettings RiskSettings { get; init; } = new();
    /// <summary>Instrument whose buy-and-hold is the benchmark; default the first instrument.</summary>
    public string? Benchmark { get; init; }
}

public sealed record DataConfiguration
{
    /// <summary>tick | minute | hour | daily.</summary>
    public string Resolution { get; init; } = "daily";
    /// <summary>bars | ticks.</summary>
    public string DataType { get; init; } = "bars";
    /// <summary>raw | split | splitDividend.</summary>
    public string Adjustment { get; init; } = "splitDividend";
    public QualityFilters QualityFilters { get; init; } = new();
    /// <summary>Bars loaded before the start date to warm indicators up; 0 warms up inside the range.</summary>
    public int Warmup { get; init; }
    /// <summary>Equity minute and tick data: also use the pre- and post-market session (default: regular session only).</summary>
    public bool ExtendedHours { get; init; }
    /// <summary>Allow exchange rates older than the staleness limit (carry the last rate forward) instead of refusing the run.</summary>
    public bool FxCarryForward { get; init; }
}

public sealed record QualityFilters
{
    /// <summary>Drop bars with a non-positive price or high below low.</summary>
    public bool DropInvalid { get; init; } = true;
    public bool DropZeroVolume { get; init; }
    /// <summary>Drop a bar whose close moves more than this fraction from the previous close (0 = off).</summary>
    public double SpikeThreshold { get; init; }
    /// <summary>Count trading sessions with no data, against the market calendar.</summary>
    public bool ReportGaps { get; init; } = true;
}

public sealed record ExecutionSettings
{
    /// <summary>nextBarOpen | sameBarClose | nextTick.</summary>
    public string FillModel { get; init; } = "nextBarOpen";
    public SlippageSettings Slippage { get; init; } = new();
    public CommissionSettings Commission { get; init; } = new();
    /// <summary>Largest fraction of a bar's volume one order may take (0 = no cap); the rest stays working.</summary>
    public double MaxVolumeParticipation { get; init; }
}

public sealed record SlippageSettings
{
    /// <summary>none | fixedBps | fixedTicks | volumeShare.</summary>
    public string Model { get; init; } = "none";
    public double Bps { get; init; }
    public double Ticks { get; init; }
    /// <summary>volumeShare: price impact = impact x (order quantity / bar volume)^2, as a fraction of price.</summary>
    public double Impact { get; init; } = 0.1;
}

public sealed record CommissionSettings
{
    /// <summary>none | percent | fixed | perShare.</summary>
    public string Model { get; init; } = "none";
    /// <summary>percent: fraction of traded value (0.001 = 0.1%).</summary>
    public double Rate { get; init; }
    /// <summary>fixed: amount per order (charged on its first fill).</summary>
    public double Amount { get; init; }
    /// <summary>perShare: amount per share or unit.</summary>
    public double PerShare { get; init; }
    /// <summary>perShare: minimum per order.</summary>
    public double Minimum { get; init; }
    /// <summary>perShare: maximum as a fraction of the order's traded value (0 = none).</summary>
    public double MaximumPercent { get; init; }
}

public sealed record RiskSettings
{
    public PositionSizing PositionSizing { get; init; } = new();
    public RiskLimits Limits { get; init; } = new();
    public StopSettings Stops { get; init; } = new();
    /// <summary>Largest gross exposure / equity allowed for a margin account (at most 10).</summary>
    public double MaxLeverage { get; init; } = 1;
    /// <summary>Stop trading and flatten when drawdown from the peak exceeds this fraction (0 = off).</summary>
    public double DrawdownHalt { get; init; }
}

public sealed record PositionSizing
{
    /// <summary>fixedQuantity | fixedNotional | percentEquity | volatilityTarget.</summary>
    public string Mode { get; init; } = "percentEquity";
    public double Quantity { get; init; } = 100;
    public double Notional { get; init; } = 10_000;
    /// <summary>percentEquity: fraction of equity per position (0.95 = 95%).</summary>
    public double Percent { get; init; } = 0.95;
    /// <summary>volatilityTarget: fraction of equity risked per ATR of adverse move.</summary>
    public double RiskPercent { get; init; } = 0.01;
    public int AtrPeriod { get; init; } = 14;
}

public sealed record RiskLimits
{
    /// <summary>Largest absolute quantity per instrument (0 = none).</summary>
    public double MaxPositionQuantity { get; init; }
    /// <summary>Largest absolute position value per instrument as a fraction of equity (0 = none).</summary>
    public double MaxPositionPercent { get; init; }
    /// <summary>Most instruments held at once (0 = none).</summary>
    public int MaxOpenPositions { get; init; }
}

public sealed record StopSettings
{
    /// <summary>Exit when the price moves this fraction against the entry (0 = off).</summary>
    public double StopLossPercent { get; init; }
    /// <summary>Exit when the price moves this fraction in favour of the entry (0 = off).</summary>
    public double TakeProfitPercent { get; init; }
}

/// <summary>The one JSON convention of the project: camelCase, enums as camelCase strings.</summary>
public static class JsonDefaults
{
    /// <summary>
    /// Enums as their camelCase names, never numbers (<c>3</c>, <c>"3"</c>). The framework's converter still reads
    /// comma-joined names; words a client sends (priority, sort) are read with <see cref="EnumWords"/>, which refuses them.
    /// </summary>
    public static JsonStringEnumConverter EnumConverter() => new(JsonNamingPolicy.CamelCase, allowIntegerValues: false);

    public static readonly JsonSerializerOptions Options = Create(indented: false);
    public static readonly JsonSerializerOptions Indented = Create(indented: true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = indented,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            // A property named twice is refused, not resolved by whichever reader came last (StrictJson says where).
            AllowDuplicateProperties = false,
        };
        options.Converters.Add(EnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
