using System.Globalization;
using System.Text.Json;
using Backtesting.Engine.Configuration;
using Backtesting.Engine.Data;
using Backtesting.Engine.Metrics;
using Backtesting.Engine.Protocol;
using Backtesting.Engine.Results;

namespace Backtesting.Worker;

/// <summary>
/// Writes results.json as a stream: the document is written field by field with a <see cref="Utf8JsonWriter"/> whose
/// pending bytes go to a temporary file whenever a block is nearly full; the file is then synced and renamed over the
/// target, so a reader sees either no results or all of them. Nothing document-sized is held in memory, and the orders
/// and fills are read from the engine's records as they are written. The bytes are those of
/// <c>JsonSerializer.SerializeToUtf8Bytes(result, JsonDefaults.Options)</c> (<c>Tests/Worker/ResultsWriterTests.cs</c>
/// compares them for every template and the awkward runs, so a field added to a result type and not written here fails
/// there).
/// </summary>
/// <remarks>
/// Why by hand: the reflection serializer's first use in a short worker process compiles hundreds of methods (a
/// converter, a property accessor and a collection instantiation per type and field, none of them precompiled), which
/// cost more than writing a year's document does. The config is written by <see cref="ConfigJson"/>, which the content
/// hash writes it with too, so a run never starts the reflection serializer. Names come from the record's
/// members through the project's naming policy, so the shape has one home, the result types.
/// </remarks>
public static class ResultsWriter
{
    /// <summary>The write block: pending bytes go to the file once they pass nine tenths of it.</summary>
    public const int BlockBytes = 64 * 1024;

    private const int FlushAt = BlockBytes / 10 * 9;

    // The project's serializer settings that shape bytes: its encoder and its indentation.
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JsonDefaults.Options.Encoder,
        Indented = JsonDefaults.Options.WriteIndented,
        SkipValidation = true,
    };

    public static void Write(string path, BacktestResult result)
    {
        var temporary = path + ".tmp";
        // No FileStream buffer of its own: the writer's block is the buffer, written straight through.
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            using (var writer = new Utf8JsonWriter(stream, WriterOptions))
            {
                new Document(writer).Write(result);
                writer.Flush();
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// A <c>backtest_trade</c> protocol line, as <c>JsonSerializer.Serialize(new BacktestMessage&lt;TradeBatchData&gt;(...))</c>
    /// writes it: the trades are written as in results.json, by the same code (<see cref="ProtocolLines.Trade"/>).
    /// </summary>
    public static string TradeLine(string backtestId, DateTime timestamp, IReadOnlyList<Trade> trades) =>
        ProtocolLines.Trade(backtestId, timestamp, trades);

    /// <summary>A list of trades as results.json holds them, for the protocol's trade lines.</summary>
    internal static void WriteTrades(Utf8JsonWriter writer, JsonEncodedText name, IReadOnlyList<Trade> trades) =>
        new Document(writer).Trades(name, trades);

    /// <summary>The metrics object as results.json holds it, for the protocol's trial lines.</summary>
    internal static void WriteMetrics(Utf8JsonWriter writer, PerformanceMetrics metrics) => new Document(writer).MetricsObject(metrics);

    /// <summary>
    /// Whether <paramref name="value"/> is a whole number below 10^15 in magnitude other than negative zero: such a double
    /// is written as the integer it is, the same bytes as the serializer's shortest round-trip form (which switches to
    /// an exponent only from 10^15 and writes -0 as "-0") at a fraction of its cost. Quantities, zero commissions and
    /// slippage are whole in most runs: about half the numbers of a document.
    /// </summary>
    internal static bool IsSmallWhole(double value) =>
        Math.Abs(value) < 1e15 && value == Math.Floor(value) && (value != 0 || !double.IsNegative(value));

    /// <summary>
    /// A double as the project's serializer writes it, for results.json and every protocol line alike: a whole number
    /// below 10^15 as the integer it is (<see cref="IsSmallWhole"/>), another finite number in its shortest round-trip
    /// form, and, as the project's number handling allows, NaN and the infinities as named strings.
    /// </summary>
    internal static void WriteNumberValue(Utf8JsonWriter w, double value)
    {
        if (IsSmallWhole(value))
        {
            w.WriteNumberValue((long)value);
        }
        else if (double.IsFinite(value))
        {
            w.WriteNumberValue(value);
        }
        else
        {
            w.WriteStringValue(double.IsNaN(value) ? N.NaN : value > 0 ? N.Infinity : N.NegativeInfinity);
        }
    }

    /// <summary>The property name of a result type's member as the project's serializer writes it.</summary>
    private static JsonEncodedText Name(string member) =>
        JsonEncodedText.Encode(JsonDefaults.Options.PropertyNamingPolicy?.ConvertName(member) ?? member, JsonDefaults.Options.Encoder);

    private sealed class Document(Utf8JsonWriter w)
    {
        public void Write(BacktestResult r)
        {
            w.WriteStartObject();
            String(N.EngineVersion, r.EngineVersion);
            String(N.ContentHash, r.ContentHash);
            w.WriteBoolean(N.Partial, r.Partial);
            w.WritePropertyName(N.Config);
            ConfigJson.Write(w, r.Config);
            Summary(r.Summary);
            Metrics(r.Metrics);
            Trades(N.Trades, r.Trades);
            EquityPoints(N.EquityCurve, r.EquityCurve);
            DailyEquities(N.DailyEquity, r.DailyEquity);
            DailyReturns(N.DailyReturns, r.DailyReturns);
            w.WritePropertyName(N.Benchmark);
            w.WriteStartObject();
            String(N.Instrument, r.Benchmark.Instrument);
            Double(N.TotalReturn, r.Benchmark.TotalReturn);
            DailyEquities(N.EquityCurve, r.Benchmark.EquityCurve);
            w.WriteEndObject();
            MonthlyReturns(N.MonthlyReturns, r.MonthlyReturns);
            Orders(N.Orders, r.Orders);
            Fills(N.Fills, r.Fills);
            Breakdowns(N.PerInstrument, r.PerInstrument);
            OpenPositions(N.OpenPositions, r.OpenPositions);
            Qualities(N.DataQuality, r.DataQuality);
            String(N.FxRateSource, r.FxRateSource);
            Strings(N.Notes, r.Notes);
            w.WriteEndObject();
        }

        private void Summary(ResultSummary s)
        {
            w.WritePropertyName(N.Summary);
            w.WriteStartObject();
            String(N.Strategy, s.Strategy);
            Strings(N.Instruments, s.Instruments);
            String(N.StartDate, s.StartDate);
            String(N.EndDate, s.EndDate);
            String(N.BaseCurrency, s.BaseCurrency);
            Double(N.InitialBalance, s.InitialBalance);
            Double(N.FinalBalance, s.FinalBalance);
            Double(N.TotalReturn, s.TotalReturn);
            Double(N.MaxDrawdown, s.MaxDrawdown);
            w.WriteNumber(N.TotalTrades, s.TotalTrades);
            w.WriteNumber(N.OpenPositions, s.OpenPositions);
            w.WriteNumber(N.ProcessedBars, s.ProcessedBars);
            String(N.HaltedAt, s.HaltedAt);
            w.WriteEndObject();
        }

        private void Metrics(PerformanceMetrics m)
        {
            w.WritePropertyName(N.Metrics);
            MetricsObject(m);
        }

        public void MetricsObject(PerformanceMetrics m)
        {
            w.WriteStartObject();
            Double(N.TotalReturn, m.TotalReturn);
            Double(N.AnnualizedReturn, m.AnnualizedReturn);
            Double(N.Volatility, m.Volatility);
            Double(N.SharpeRatio, m.SharpeRatio);
            Double(N.SortinoRatio, m.SortinoRatio);
            Double(N.CalmarRatio, m.CalmarRatio);
            Double(N.MaxDrawdown, m.MaxDrawdown);
            Double(N.MaxDrawdownDuration, m.MaxDrawdownDuration);
            Double(N.WinRate, m.WinRate);
            Double(N.ProfitFactor, m.ProfitFactor);
            Double(N.Expectancy, m.Expectancy);
            Double(N.AverageWin, m.AverageWin);
            Double(N.AverageLoss, m.AverageLoss);
            Double(N.PayoffRatio, m.PayoffRatio);
            w.WriteNumber(N.TotalTrades, m.TotalTrades);
            Double(N.Exposure, m.Exposure);
            Double(N.Turnover, m.Turnover);
            Double(N.TotalCommission, m.TotalCommission);
            Double(N.Var95Historical, m.Var95Historical);
            Double(N.Var99Historical, m.Var99Historical);
            Double(N.Var95Parametric, m.Var95Parametric);
            Double(N.Var99Parametric, m.Var99Parametric);
            Double(N.Cvar95, m.Cvar95);
            Double(N.Beta, m.Beta);
            Double(N.Alpha, m.Alpha);
            Double(N.Correlation, m.Correlation);
            Double(N.InformationRatio, m.InformationRatio);
            Double(N.TrackingError, m.TrackingError);
            Double(N.ProbabilisticSharpeRatio, m.ProbabilisticSharpeRatio);
            Double(N.Skewness, m.Skewness);
            Double(N.Kurtosis, m.Kurtosis);
            w.WriteNumber(N.TradingDays, m.TradingDays);
            w.WriteNumber(N.PeriodsPerYear, m.PeriodsPerYear);
            Double(N.RiskFreeRate, m.RiskFreeRate);
            w.WriteEndObject();
        }

        public void Trades(JsonEncodedText name, IReadOnlyList<Trade> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var t = items[i];
                w.WriteStartObject();
                w.WriteNumber(N.Id, t.Id);
                String(N.Instrument, t.Instrument);
                w.WriteString(N.Side, N.Sides[(int)t.Side]);
                Double(N.Quantity, t.Quantity);
                w.WriteString(N.EntryTime, t.EntryTime);
                Double(N.EntryPrice, t.EntryPrice);
                w.WriteString(N.ExitTime, t.ExitTime);
                Double(N.ExitPrice, t.ExitPrice);
                Double(N.Pnl, t.Pnl);
                Double(N.ReturnPct, t.ReturnPct);
                Double(N.Commission, t.Commission);
                Double(N.Mae, t.Mae);
                Double(N.Mfe, t.Mfe);
                w.WriteNumber(N.BarsHeld, t.BarsHeld);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void EquityPoints(JsonEncodedText name, IReadOnlyList<EquityPoint> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var p = items[i];
                w.WriteStartObject();
                w.WriteString(N.Time, p.Time);
                Double(N.Equity, p.Equity);
                Double(N.Cash, p.Cash);
                Double(N.Drawdown, p.Drawdown);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void DailyEquities(JsonEncodedText name, IReadOnlyList<DailyEquity> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var d = items[i];
                w.WriteStartObject();
                Date(N.Date, d.Date);
                Double(N.Equity, d.Equity);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void DailyReturns(JsonEncodedText name, IReadOnlyList<DailyReturn> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var d = items[i];
                w.WriteStartObject();
                Date(N.Date, d.Date);
                Double(N.Return, d.Return);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void MonthlyReturns(JsonEncodedText name, IReadOnlyList<MonthlyReturn> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var m = items[i];
                w.WriteStartObject();
                w.WriteNumber(N.Year, m.Year);
                w.WriteNumber(N.Month, m.Month);
                Double(N.Return, m.Return);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void Orders(JsonEncodedText name, IReadOnlyList<OrderRecord> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var o = items[i];
                w.WriteStartObject();
                w.WriteNumber(N.Id, o.Id);
                String(N.Instrument, o.Instrument);
                String(N.Side, o.Side);
                String(N.Type, o.Type);
                Double(N.Quantity, o.Quantity);
                Double(N.LimitPrice, o.LimitPrice);
                Double(N.StopPrice, o.StopPrice);
                String(N.TimeInForce, o.TimeInForce);
                w.WriteString(N.SubmittedAt, o.SubmittedAt);
                String(N.Status, o.Status);
                Double(N.FilledQuantity, o.FilledQuantity);
                Double(N.AveragePrice, o.AveragePrice);
                Double(N.Commission, o.Commission);
                String(N.Reason, o.Reason);
                String(N.Tag, o.Tag);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void Fills(JsonEncodedText name, IReadOnlyList<FillRecord> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var f = items[i];
                w.WriteStartObject();
                w.WriteNumber(N.OrderId, f.OrderId);
                String(N.Instrument, f.Instrument);
                w.WriteString(N.Time, f.Time);
                Double(N.Quantity, f.Quantity);
                Double(N.Price, f.Price);
                Double(N.Commission, f.Commission);
                Double(N.Slippage, f.Slippage);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void Breakdowns(JsonEncodedText name, IReadOnlyList<InstrumentBreakdown> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var b = items[i];
                w.WriteStartObject();
                String(N.Instrument, b.Instrument);
                w.WriteNumber(N.Trades, b.Trades);
                Double(N.NetPnl, b.NetPnl);
                Double(N.WinRate, b.WinRate);
                Double(N.Commission, b.Commission);
                Double(N.TradedValue, b.TradedValue);
                Double(N.FinalQuantity, b.FinalQuantity);
                Double(N.UnrealizedPnl, b.UnrealizedPnl);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void OpenPositions(JsonEncodedText name, IReadOnlyList<OpenPosition> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var p = items[i];
                w.WriteStartObject();
                String(N.Instrument, p.Instrument);
                String(N.Side, p.Side);
                Double(N.Quantity, p.Quantity);
                Double(N.AveragePrice, p.AveragePrice);
                Double(N.LastPrice, p.LastPrice);
                Double(N.MarketValue, p.MarketValue);
                Double(N.UnrealizedPnl, p.UnrealizedPnl);
                w.WriteString(N.EntryTime, p.EntryTime);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void Qualities(JsonEncodedText name, IReadOnlyList<DataQualityCounts> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                var q = items[i];
                w.WriteStartObject();
                String(N.Instrument, q.Instrument);
                w.WriteNumber(N.TotalRead, q.TotalRead);
                w.WriteNumber(N.DroppedInvalid, q.DroppedInvalid);
                w.WriteNumber(N.DroppedZeroVolume, q.DroppedZeroVolume);
                w.WriteNumber(N.DroppedSpikes, q.DroppedSpikes);
                w.WriteNumber(N.MissingSessions, q.MissingSessions);
                w.WriteNumber(N.Kept, q.Kept);
                w.WriteEndObject();
                Next();
            }

            w.WriteEndArray();
        }

        private void Strings(JsonEncodedText name, IReadOnlyList<string> items)
        {
            StartList(name);
            for (var i = 0; i < items.Count; i++)
            {
                w.WriteStringValue(items[i]);
                Next();
            }

            w.WriteEndArray();
        }

        private void StartList(JsonEncodedText name)
        {
            w.WritePropertyName(name);
            w.WriteStartArray();
        }

        /// <summary>After each item of a list: hands the pending bytes to the file when a block is nearly full.</summary>
        private void Next()
        {
            if (w.BytesPending >= FlushAt)
            {
                w.Flush();
            }
        }

        private void String(JsonEncodedText name, string? value)
        {
            if (value is null)
            {
                w.WriteNull(name);
            }
            else
            {
                w.WriteString(name, value);
            }
        }

        private void Double(JsonEncodedText name, double? value)
        {
            if (value is { } number)
            {
                Double(name, number);
            }
            else
            {
                w.WriteNull(name);
            }
        }

        /// <summary>A number, or, as the project's number handling allows, NaN and the infinities as named strings.</summary>
        private void Double(JsonEncodedText name, double value)
        {
            w.WritePropertyName(name);
            WriteNumberValue(w, value);
        }

        private void Date(JsonEncodedText name, DateOnly date)
        {
            Span<byte> text = stackalloc byte[10];
            date.TryFormat(text, out var written, "O", CultureInfo.InvariantCulture);
            w.WriteString(name, text[..written]);
        }
    }

    /// <summary>The encoded property names, each from the member it names.</summary>
    private static class N
    {
        public static readonly JsonEncodedText NaN = JsonEncodedText.Encode("NaN");
        public static readonly JsonEncodedText Infinity = JsonEncodedText.Encode("Infinity");
        public static readonly JsonEncodedText NegativeInfinity = JsonEncodedText.Encode("-Infinity");
        public static readonly JsonEncodedText[] Sides = Enum.GetNames<TradeSide>().Select(Name).ToArray();


        public static readonly JsonEncodedText EngineVersion = Name(nameof(BacktestResult.EngineVersion));
        public static readonly JsonEncodedText ContentHash = Name(nameof(BacktestResult.ContentHash));
        public static readonly JsonEncodedText Partial = Name(nameof(BacktestResult.Partial));
        public static readonly JsonEncodedText Config = Name(nameof(BacktestResult.Config));
        public static readonly JsonEncodedText Summary = Name(nameof(BacktestResult.Summary));
        public static readonly JsonEncodedText Metrics = Name(nameof(BacktestResult.Metrics));
        public static readonly JsonEncodedText Trades = Name(nameof(BacktestResult.Trades));
        public static readonly JsonEncodedText EquityCurve = Name(nameof(BacktestResult.EquityCurve));
        public static readonly JsonEncodedText DailyEquity = Name(nameof(BacktestResult.DailyEquity));
        public static readonly JsonEncodedText DailyReturns = Name(nameof(BacktestResult.DailyReturns));
        public static readonly JsonEncodedText Benchmark = Name(nameof(BacktestResult.Benchmark));
        public static readonly JsonEncodedText MonthlyReturns = Name(nameof(BacktestResult.MonthlyReturns));
        public static readonly JsonEncodedText Orders = Name(nameof(BacktestResult.Orders));
        public static readonly JsonEncodedText Fills = Name(nameof(BacktestResult.Fills));
        public static readonly JsonEncodedText PerInstrument = Name(nameof(BacktestResult.PerInstrument));
        public static readonly JsonEncodedText OpenPositions = Name(nameof(BacktestResult.OpenPositions));
        public static readonly JsonEncodedText DataQuality = Name(nameof(BacktestResult.DataQuality));
        public static readonly JsonEncodedText FxRateSource = Name(nameof(BacktestResult.FxRateSource));
        public static readonly JsonEncodedText Notes = Name(nameof(BacktestResult.Notes));

        public static readonly JsonEncodedText Strategy = Name(nameof(ResultSummary.Strategy));
        public static readonly JsonEncodedText Instruments = Name(nameof(ResultSummary.Instruments));
        public static readonly JsonEncodedText StartDate = Name(nameof(ResultSummary.StartDate));
        public static readonly JsonEncodedText EndDate = Name(nameof(ResultSummary.EndDate));
        public static readonly JsonEncodedText BaseCurrency = Name(nameof(ResultSummary.BaseCurrency));
        public static readonly JsonEncodedText InitialBalance = Name(nameof(ResultSummary.InitialBalance));
        public static readonly JsonEncodedText FinalBalance = Name(nameof(ResultSummary.FinalBalance));
        public static readonly JsonEncodedText TotalReturn = Name(nameof(ResultSummary.TotalReturn));
        public static readonly JsonEncodedText MaxDrawdown = Name(nameof(ResultSummary.MaxDrawdown));
        public static readonly JsonEncodedText TotalTrades = Name(nameof(ResultSummary.TotalTrades));
        public static readonly JsonEncodedText ProcessedBars = Name(nameof(ResultSummary.ProcessedBars));
        public static readonly JsonEncodedText HaltedAt = Name(nameof(ResultSummary.HaltedAt));

        public static readonly JsonEncodedText AnnualizedReturn = Name(nameof(PerformanceMetrics.AnnualizedReturn));
        public static readonly JsonEncodedText Volatility = Name(nameof(PerformanceMetrics.Volatility));
        public static readonly JsonEncodedText SharpeRatio = Name(nameof(PerformanceMetrics.SharpeRatio));
        public static readonly JsonEncodedText SortinoRatio = Name(nameof(PerformanceMetrics.SortinoRatio));
        public static readonly JsonEncodedText CalmarRatio = Name(nameof(PerformanceMetrics.CalmarRatio));
        public static readonly JsonEncodedText MaxDrawdownDuration = Name(nameof(PerformanceMetrics.MaxDrawdownDuration));
        public static readonly JsonEncodedText WinRate = Name(nameof(PerformanceMetrics.WinRate));
        public static readonly JsonEncodedText ProfitFactor = Name(nameof(PerformanceMetrics.ProfitFactor));
        public static readonly JsonEncodedText Expectancy = Name(nameof(PerformanceMetrics.Expectancy));
        public static readonly JsonEncodedText AverageWin = Name(nameof(PerformanceMetrics.AverageWin));
        public static readonly JsonEncodedText AverageLoss = Name(nameof(PerformanceMetrics.AverageLoss));
        public static readonly JsonEncodedText PayoffRatio = Name(nameof(PerformanceMetrics.PayoffRatio));
        public static readonly JsonEncodedText Exposure = Name(nameof(PerformanceMetrics.Exposure));
        public static readonly JsonEncodedText Turnover = Name(nameof(PerformanceMetrics.Turnover));
        public static readonly JsonEncodedText TotalCommission = Name(nameof(PerformanceMetrics.TotalCommission));
        public static readonly JsonEncodedText Var95Historical = Name(nameof(PerformanceMetrics.Var95Historical));
        public static readonly JsonEncodedText Var99Historical = Name(nameof(PerformanceMetrics.Var99Historical));
        public static readonly JsonEncodedText Var95Parametric = Name(nameof(PerformanceMetrics.Var95Parametric));
        public static readonly JsonEncodedText Var99Parametric = Name(nameof(PerformanceMetrics.Var99Parametric));
        public static readonly JsonEncodedText Cvar95 = Name(nameof(PerformanceMetrics.Cvar95));
        public static readonly JsonEncodedText Beta = Name(nameof(PerformanceMetrics.Beta));
        public static readonly JsonEncodedText Alpha = Name(nameof(PerformanceMetrics.Alpha));
        public static readonly JsonEncodedText Correlation = Name(nameof(PerformanceMetrics.Correlation));
        public static readonly JsonEncodedText InformationRatio = Name(nameof(PerformanceMetrics.InformationRatio));
        public static readonly JsonEncodedText TrackingError = Name(nameof(PerformanceMetrics.TrackingError));
        public static readonly JsonEncodedText ProbabilisticSharpeRatio = Name(nameof(PerformanceMetrics.ProbabilisticSharpeRatio));
        public static readonly JsonEncodedText Skewness = Name(nameof(PerformanceMetrics.Skewness));
        public static readonly JsonEncodedText Kurtosis = Name(nameof(PerformanceMetrics.Kurtosis));
        public static readonly JsonEncodedText TradingDays = Name(nameof(PerformanceMetrics.TradingDays));
        public static readonly JsonEncodedText PeriodsPerYear = Name(nameof(PerformanceMetrics.PeriodsPerYear));
        public static readonly JsonEncodedText RiskFreeRate = Name(nameof(PerformanceMetrics.RiskFreeRate));

        public static readonly JsonEncodedText Id = Name(nameof(Engine.Results.Trade.Id));
        public static readonly JsonEncodedText Instrument = Name(nameof(Engine.Results.Trade.Instrument));
        public static readonly JsonEncodedText Side = Name(nameof(Engine.Results.Trade.Side));
        public static readonly JsonEncodedText Quantity = Name(nameof(Engine.Results.Trade.Quantity));
        public static readonly JsonEncodedText EntryTime = Name(nameof(Engine.Results.Trade.EntryTime));
        public static readonly JsonEncodedText EntryPrice = Name(nameof(Engine.Results.Trade.EntryPrice));
        public static readonly JsonEncodedText ExitTime = Name(nameof(Engine.Results.Trade.ExitTime));
        public static readonly JsonEncodedText ExitPrice = Name(nameof(Engine.Results.Trade.ExitPrice));
        public static readonly JsonEncodedText Pnl = Name(nameof(Engine.Results.Trade.Pnl));
        public static readonly JsonEncodedText ReturnPct = Name(nameof(Engine.Results.Trade.ReturnPct));
        public static readonly JsonEncodedText Commission = Name(nameof(Engine.Results.Trade.Commission));
        public static readonly JsonEncodedText Mae = Name(nameof(Engine.Results.Trade.Mae));
        public static readonly JsonEncodedText Mfe = Name(nameof(Engine.Results.Trade.Mfe));
        public static readonly JsonEncodedText BarsHeld = Name(nameof(Engine.Results.Trade.BarsHeld));

        public static readonly JsonEncodedText Time = Name(nameof(Engine.Results.EquityPoint.Time));
        public static readonly JsonEncodedText Equity = Name(nameof(Engine.Results.EquityPoint.Equity));
        public static readonly JsonEncodedText Cash = Name(nameof(Engine.Results.EquityPoint.Cash));
        public static readonly JsonEncodedText Drawdown = Name(nameof(Engine.Results.EquityPoint.Drawdown));
        public static readonly JsonEncodedText Date = Name(nameof(Engine.Results.DailyEquity.Date));
        public static readonly JsonEncodedText Return = Name(nameof(Engine.Results.DailyReturn.Return));
        public static readonly JsonEncodedText Year = Name(nameof(Engine.Metrics.MonthlyReturn.Year));
        public static readonly JsonEncodedText Month = Name(nameof(Engine.Metrics.MonthlyReturn.Month));

        public static readonly JsonEncodedText Type = Name(nameof(OrderRecord.Type));
        public static readonly JsonEncodedText LimitPrice = Name(nameof(OrderRecord.LimitPrice));
        public static readonly JsonEncodedText StopPrice = Name(nameof(OrderRecord.StopPrice));
        public static readonly JsonEncodedText TimeInForce = Name(nameof(OrderRecord.TimeInForce));
        public static readonly JsonEncodedText SubmittedAt = Name(nameof(OrderRecord.SubmittedAt));
        public static readonly JsonEncodedText Status = Name(nameof(OrderRecord.Status));
        public static readonly JsonEncodedText FilledQuantity = Name(nameof(OrderRecord.FilledQuantity));
        public static readonly JsonEncodedText AveragePrice = Name(nameof(OrderRecord.AveragePrice));
        public static readonly JsonEncodedText Reason = Name(nameof(OrderRecord.Reason));
        public static readonly JsonEncodedText Tag = Name(nameof(OrderRecord.Tag));
        public static readonly JsonEncodedText OrderId = Name(nameof(FillRecord.OrderId));
        public static readonly JsonEncodedText Price = Name(nameof(FillRecord.Price));
        public static readonly JsonEncodedText Slippage = Name(nameof(FillRecord.Slippage));

        public static readonly JsonEncodedText NetPnl = Name(nameof(InstrumentBreakdown.NetPnl));
        public static readonly JsonEncodedText TradedValue = Name(nameof(InstrumentBreakdown.TradedValue));
        public static readonly JsonEncodedText FinalQuantity = Name(nameof(InstrumentBreakdown.FinalQuantity));
        public static readonly JsonEncodedText UnrealizedPnl = Name(nameof(InstrumentBreakdown.UnrealizedPnl));
        public static readonly JsonEncodedText LastPrice = Name(nameof(Engine.Results.OpenPosition.LastPrice));
        public static readonly JsonEncodedText MarketValue = Name(nameof(Engine.Results.OpenPosition.MarketValue));

        public static readonly JsonEncodedText TotalRead = Name(nameof(DataQualityCounts.TotalRead));
        public static readonly JsonEncodedText DroppedInvalid = Name(nameof(DataQualityCounts.DroppedInvalid));
        public static readonly JsonEncodedText DroppedZeroVolume = Name(nameof(DataQualityCounts.DroppedZeroVolume));
        public static readonly JsonEncodedText DroppedSpikes = Name(nameof(DataQualityCounts.DroppedSpikes));
        public static readonly JsonEncodedText MissingSessions = Name(nameof(DataQualityCounts.MissingSessions));
        public static readonly JsonEncodedText Kept = Name(nameof(DataQualityCounts.Kept));
    }
}
