using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Data;
using Backtesting.Engine.Execution;
using Backtesting.Engine.Portfolio;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Configuration;

/// <summary>The outcome of validation: every error at once, or the typed spec to run.</summary>
public sealed record ValidationOutcome(IReadOnlyList<ValidationError> Errors, BacktestSpec? Spec)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// The one home of the validation rules, used by the worker and the API alike. Every error names the field
/// (a JSON path such as <c>instruments[2]</c>), the rule it breaks, and says what is expected.
/// </summary>
public static partial class ConfigValidator
{
    public const double MinBalance = 1_000;
    public const double MaxBalance = 100_000_000;
    public const int MaxInstruments = 50;
    public const double MaxLeverageLimit = 10;
    public static readonly IReadOnlyList<string> Currencies = ["USD", "EUR", "GBP", "JPY", "CHF"];
    public static readonly IReadOnlyList<string> Resolutions = ["tick", "minute", "hour", "daily"];
    public static readonly IReadOnlyList<string> DataTypes = ["bars", "ticks"];
    public static readonly IReadOnlyList<string> Adjustments = ["raw", "split", "splitDividend"];
    public static readonly IReadOnlyList<string> FillModels = ["nextBarOpen", "sameBarClose", "nextTick"];
    public static readonly IReadOnlyList<string> SlippageModels = ["none", "fixedBps", "fixedTicks", "volumeShare"];
    public static readonly IReadOnlyList<string> CommissionModels = ["none", "percent", "fixed", "perShare"];
    public static readonly IReadOnlyList<string> SizingModes = ["fixedQuantity", "fixedNotional", "percentEquity", "volatilityTarget"];
    public static readonly IReadOnlyList<string> AccountTypes = ["cash", "margin"];

    /// <summary>Reads a config from JSON; a malformed document gives one error naming where it broke.</summary>
    public static (BacktestConfig? Config, IReadOnlyList<ValidationError> Errors) Parse(string json)
    {
        if (StrictJson.Check(json) is { } broken)
        {
            return (null, [broken]);
        }

        try
        {
            var config = ConfigJson.Read(json);
            return config is null
                ? (null, [new ValidationError("$", "json", "the config must be a JSON object")])
                : (config, []);
        }
        catch (JsonException e)
        {
            return (null, [new ValidationError(StrictJson.Field(e.Path), "json", StrictJson.Describe(e))]);
        }
    }

    /// <param name="strategyRules">False for an optimization's base config: its strategy's cross-parameter rules are checked
    /// per trial (a trial that breaks one is infeasible), while its schema and every other rule are checked here.</param>
    public static ValidationOutcome Validate(BacktestConfig config, IMarketDataProvider data, StrategyCatalog strategies,
        ValidationPolicy policy, DateOnly today, bool strategyRules = true)
    {
        var errors = new List<ValidationError>();
        void Add(string field, string rule, string message) => errors.Add(new ValidationError(field, rule, message));

        // ---- Enumerated settings ----
        var resolution = Choice(config.DataConfiguration.Resolution, Resolutions, "dataConfiguration.resolution", errors);
        var dataType = Choice(config.DataConfiguration.DataType, DataTypes, "dataConfiguration.dataType", errors);
        var adjustment = Choice(config.DataConfiguration.Adjustment, Adjustments, "dataConfiguration.adjustment", errors);
        var fillModel = Choice(config.ExecutionSettings.FillModel, FillModels, "executionSettings.fillModel", errors);
        Choice(config.ExecutionSettings.Slippage.Model, SlippageModels, "executionSettings.slippage.model", errors);
        Choice(config.ExecutionSettings.Commission.Model, CommissionModels, "executionSettings.commission.model", errors);
        var sizing = Choice(config.RiskSettings.PositionSizing.Mode, SizingModes, "riskSettings.positionSizing.mode", errors);
        var account = Choice(config.AccountType, AccountTypes, "accountType", errors);

        var typedResolution = resolution is null ? Resolution.Daily : Enum.Parse<Resolution>(resolution, ignoreCase: true);
        var typedDataType = dataType is null ? DataType.Bars : Enum.Parse<DataType>(dataType, ignoreCase: true);
        if (dataType == "ticks" && resolution is not null && resolution != "tick")
        {
            Add("dataConfiguration.dataType", "combination", "dataType ticks needs resolution tick");
        }

        if (resolution == "tick" && dataType == "bars")
        {
            Add("dataConfiguration.resolution", "combination", "resolution tick needs dataType ticks");
        }

        if (fillModel == "nextTick" && dataType == "bars")
        {
            Add("executionSettings.fillModel", "combination", "fillModel nextTick needs dataType ticks");
        }

        var dataConfig = config.DataConfiguration;
        Range(dataConfig.Warmup, 0, 10_000, "dataConfiguration.warmup", errors);
        Range(dataConfig.QualityFilters.SpikeThreshold, 0, 100, "dataConfiguration.qualityFilters.spikeThreshold", errors);

        var execution = config.ExecutionSettings;
        Range(execution.Slippage.Bps, 0, 1_000, "executionSettings.slippage.bps", errors);
        Range(execution.Slippage.Ticks, 0, 1_000, "executionSettings.slippage.ticks", errors);
        Range(execution.Slippage.Impact, 0, 10, "executionSettings.slippage.impact", errors);
        Range(execution.Commission.Rate, 0, 0.1, "executionSettings.commission.rate", errors);
        Range(execution.Commission.Amount, 0, 10_000, "executionSettings.commission.amount", errors);
        Range(execution.Commission.PerShare, 0, 100, "executionSettings.commission.perShare", errors);
        Range(execution.Commission.Minimum, 0, 10_000, "executionSettings.commission.minimum", errors);
        Range(execution.Commission.MaximumPercent, 0, 1, "executionSettings.commission.maximumPercent", errors);
        Range(execution.MaxVolumeParticipation, 0, 1, "executionSettings.maxVolumeParticipation", errors);

        var risk = config.RiskSettings;
        var sizingSettings = risk.PositionSizing;
        switch (sizing)
        {
            case "fixedQuantity":
                Positive(sizingSettings.Quantity, "riskSettings.positionSizing.quantity", errors);
                break;
            case "fixedNotional":
                Positive(sizingSettings.Notional, "riskSettings.positionSizing.notional", errors);
                break;
            case "percentEquity":
                Range(sizingSettings.Percent, 0.0001, MaxLeverageLimit, "riskSettings.positionSizing.percent", errors);
                break;
            case "volatilityTarget":
                Range(sizingSettings.RiskPercent, 0.0001, 1, "riskSettings.positionSizing.riskPercent", errors);
                Range(sizingSettings.AtrPeriod, 1, 500, "riskSettings.positionSizing.atrPeriod", errors);
                break;
        }

        Range(risk.Limits.MaxPositionQuantity, 0, 1e12, "riskSettings.limits.maxPositionQuantity", errors);
        Range(risk.Limits.MaxPositionPercent, 0, MaxLeverageLimit, "riskSettings.limits.maxPositionPercent", errors);
        Range(risk.Limits.MaxOpenPositions, 0, MaxInstruments, "riskSettings.limits.maxOpenPositions", errors);
        Range(risk.Stops.StopLossPercent, 0, 0.99, "riskSettings.stops.stopLossPercent", errors);
        Range(risk.Stops.TakeProfitPercent, 0, 100, "riskSettings.stops.takeProfitPercent", errors);
        Range(risk.DrawdownHalt, 0, 1, "riskSettings.drawdownHalt", errors);
        Range(config.RiskFreeRate, MinRiskFreeRate, MaxRiskFreeRate, "riskFreeRate", errors);
        if (!(risk.MaxLeverage > 0) || risk.MaxLeverage > MaxLeverageLimit)
        {
            Add("riskSettings.maxLeverage", "range", $"maxLeverage must be above 0 and at most {MaxLeverageLimit:G} (10:1)");
        }
        else if (account == "cash" && risk.MaxLeverage > 1)
        {
            Add("riskSettings.maxLeverage", "requiresMargin", "maxLeverage above 1 needs accountType margin");
        }

        // ---- Capital ----
        if (!(config.InitialBalance >= MinBalance))
        {
            Add("initialBalance", "min", $"initialBalance must be at least {MinBalance:N0}");
        }
        else if (config.InitialBalance > MaxBalance)
        {
            Add("initialBalance", "max", $"initialBalance cannot exceed {MaxBalance:N0}");
        }

        var currencyOk = Currencies.Contains(config.BaseCurrency);
        if (!currencyOk)
        {
            Add("baseCurrency", "allowed", $"unsupported currency '{config.BaseCurrency}': use one of {string.Join(", ", Currencies)}");
        }

        // ---- Strategy ----
        StrategyDescriptor? descriptor = null;
        if (string.IsNullOrWhiteSpace(config.StrategyClass))
        {
            Add("strategyClass", "required", "strategyClass is required");
        }
        else if (!strategies.TryGet(config.StrategyClass, out descriptor))
        {
            Add("strategyClass", "unknown",
                $"unknown strategy '{config.StrategyClass}' (available: {string.Join(", ", strategies.All.Select(s => s.Name))})");
        }
        else
        {
            errors.AddRange(strategyRules
                ? StrategyErrors.Of(descriptor, config.StrategyConfig, account)
                : descriptor.SchemaErrors(config.StrategyConfig));
        }

        // ---- Dates ----
        var start = Date(config.StartDate, "startDate", errors);
        var end = Date(config.EndDate, "endDate", errors);
        if (start is { } s && end is { } e)
        {
            var days = e.DayNumber - s.DayNumber;
            if (s >= e)
            {
                Add("endDate", "afterStart", "endDate must be after startDate");
            }
            else if (days < 1)
            {
                Add("endDate", "minDuration", "the backtest must span at least 1 day");
            }
            else if (policy.MaxDurationYears is { } maxYears && e > s.AddYears(maxYears))
            {
                Add("endDate", "maxDuration",
                    $"the backtest cannot span more than {maxYears} {(maxYears == 1 ? "year" : "years")}, the cluster's limit " +
                    $"(endDate at most {s.AddYears(maxYears):yyyy-MM-dd}); it spans {days} days");
            }

            if (s > today)
            {
                Add("startDate", "notFuture", $"startDate cannot be in the future (today is {today:yyyy-MM-dd})");
            }
        }

        // ---- Instruments ----
        var instruments = new List<Instrument>();
        if (config.Instruments.Count == 0)
        {
            Add("instruments", "minCount", "at least one instrument must be selected");
        }
        else if (config.Instruments.Count > MaxInstruments)
        {
            Add("instruments", "maxCount", $"at most {MaxInstruments} instruments per backtest ({config.Instruments.Count} given)");
        }
        else if (descriptor is not null && config.Instruments.Count > descriptor.MaxInstruments)
        {
            Add("instruments", "maxCount", $"{descriptor.Name} trades at most {descriptor.MaxInstruments} instruments");
        }

        var venues = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Venues.Count; i++)
        {
            var venue = config.Venues[i];
            if (data.Catalog.Instruments.Any(x => x.Venue == venue))
            {
                venues.Add(venue);
            }
            else
            {
                Add($"venues[{i}]", "unknown",
                    $"unknown venue '{venue}' (known: {string.Join(", ", data.Catalog.Instruments.Select(x => x.Venue).Distinct().Order())})");
            }
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (config.Instruments.Count <= MaxInstruments ? config.Instruments.Count : 0); i++)
        {
            var symbol = config.Instruments[i] ?? "";
            var field = $"instruments[{i}]";
            if (InstrumentIds.IdProblem(symbol) is { } problem)
            {
                Add(field, "pattern", $"invalid instrument id: {problem}; expected SYMBOL or SYMBOL.VENUE as the catalog lists it, e.g. SPY or QQQ.NASDAQ");
                continue;
            }

            var resolved = Resolve(symbol, config.Venues.Count > 0 ? venues : null, data.Catalog, out var instrument);
            if (!resolved)
            {
                Add(field, "unknown", config.Venues.Count > 0
                    ? $"unknown instrument '{symbol}' on venues {string.Join(", ", config.Venues)}"
                    : $"unknown instrument '{symbol}'");
                continue;
            }

            if (!seen.Add(instrument.Id))
            {
                Add(field, "duplicate", $"instrument '{instrument.Id}' is listed twice");
                continue;
            }

            instruments.Add(instrument);
            if (resolution is not null && dataType is not null)
            {
                var range = data.Catalog.Availability(instrument, typedResolution, typedDataType);
                if (range is null)
                {
                    Add(field, "dataAvailability", $"no {resolution} {dataType} data for {instrument.Id}");
                }
                else if (start is { } rs && end is { } re && !data.Catalog.HasData(instrument, typedResolution, typedDataType, rs, re))
                {
                    Add(field, "dataAvailability",
                        $"no {resolution} {dataType} data for {instrument.Id} between {rs:yyyy-MM-dd} and {re:yyyy-MM-dd} (available {range.First:yyyy-MM-dd} to {range.Last:yyyy-MM-dd})");
                }
            }

            if (currencyOk && !data.FxRates.Supports(instrument.QuoteCurrency, config.BaseCurrency))
            {
                Add("baseCurrency", "fxAvailability",
                    $"no exchange-rate data to convert {instrument.Id} ({instrument.QuoteCurrency}) into {config.BaseCurrency}");
            }
        }

        if (start is { } cs && end is { } ce && cs < ce && instruments.Count > 0
            && !instruments.Any(x => data.Calendar.TradingDays(x.Market, x.AssetClass, cs, ce).Any()))
        {
            Add("startDate", "marketHours", "the date range holds no trading session of the selected instruments' markets");
        }

        // ---- Benchmark ----
        var benchmark = instruments.Count > 0 ? instruments[0] : null;
        if (!string.IsNullOrEmpty(config.Benchmark))
        {
            if (!Resolve(config.Benchmark, null, data.Catalog, out var named))
            {
                Add("benchmark", "unknown", $"unknown benchmark instrument '{config.Benchmark}'");
            }
            else if (data.Catalog.Availability(named, typedResolution, typedDataType) is null
                     && data.Catalog.Availability(named, Resolution.Daily, DataType.Bars) is null)
            {
                Add("benchmark", "dataAvailability", $"no data for benchmark {named.Id}");
            }
            else
            {
                benchmark = named;
            }
        }

        // ---- Exchange-rate coverage (rule and its limit: FxCoverage) ----
        if (currencyOk && benchmark is not null && start is { } vs && end is { } ve && vs < ve
            && !errors.Any(x => x.Rule == "fxAvailability"))
        {
            var converted = instruments.Any(x => x.Id == benchmark.Id) ? instruments : [.. instruments, benchmark];
            foreach (var span in FxCoverage.Check(data.FxRates, data.Calendar, converted, config.BaseCurrency, vs, ve))
            {
                if (span.RateDate is null)
                {
                    Add("startDate", "fxCoverage", $"{span.Describe(carried: false)}: start the run later");
                }
                else if (!dataConfig.FxCarryForward)
                {
                    Add(span.PastEnd ? "endDate" : "baseCurrency", "fxCoverage",
                        $"{span.Describe(carried: false)}: end the run earlier, or set dataConfiguration.fxCarryForward to carry the rate forward");
                }
            }
        }

        if (errors.Count > 0 || benchmark is null || descriptor is null || start is null || end is null)
        {
            return new ValidationOutcome(errors, null);
        }

        var spec = new BacktestSpec
        {
            Config = config,
            Instruments = instruments,
            Benchmark = benchmark,
            Start = start.Value,
            End = end.Value,
            InitialBalance = config.InitialBalance,
            BaseCurrency = config.BaseCurrency,
            AccountType = account == "margin" ? AccountType.Margin : AccountType.Cash,
            Resolution = typedResolution,
            DataType = typedDataType,
            Adjustment = adjustment switch
            {
                "raw" => PriceAdjustment.Raw,
                "split" => PriceAdjustment.Split,
                _ => PriceAdjustment.SplitDividend,
            },
            FillModel = Enum.Parse<FillModel>(fillModel!, ignoreCase: true),
            Slippage = SlippageModel.From(execution.Slippage),
            Commission = CommissionModel.From(execution.Commission),
            Sizing = Enum.Parse<SizingMode>(sizing!, ignoreCase: true),
            PeriodsPerYear = instruments.All(x => x.AssetClass == AssetClass.Crypto) ? 365 : 252,
        };
        return new ValidationOutcome(errors, spec);
    }

    private static bool Resolve(string symbol, HashSet<string>? venues, IInstrumentCatalog catalog, out Instrument instrument)
    {
        if (venues is null || symbol.Contains('.'))
        {
            return catalog.TryResolve(symbol, out instrument) && (venues is null || venues.Contains(instrument.Venue));
        }

        foreach (var venue in venues.Order(StringComparer.Ordinal))
        {
            if (catalog.TryResolve($"{symbol}.{venue}", out instrument))
            {
                return true;
            }
        }

        instrument = null!;
        return false;
    }

    private static string? Choice(string? value, IReadOnlyList<string> allowed, string field, List<ValidationError> errors)
    {
        if (value is not null && allowed.Contains(value))
        {
            return value;
        }

        errors.Add(new ValidationError(field, "allowed", $"'{value}' is not allowed: use one of {string.Join(", ", allowed)}"));
        return null;
    }

    private static void Range(double value, double min, double max, string field, List<ValidationError> errors)
    {
        if (!(value >= min && value <= max))
        {
            errors.Add(new ValidationError(field, "range",
                $"{field.Split('.')[^1]} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}"));
        }
    }

    private static void Positive(double value, string field, List<ValidationError> errors)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            errors.Add(new ValidationError(field, "positive", $"{field.Split('.')[^1]} must be above 0"));
        }
    }
}
