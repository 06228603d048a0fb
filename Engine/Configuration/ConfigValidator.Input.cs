using System.Globalization;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Configuration;

// The rules for input that is not a config's content: the calendar range and form of its dates, and the user ids and
// free text the API takes. Every rule names its field and says what is expected, as the config rules do.
public static partial class ConfigValidator
{
    /// <summary>
    /// The earliest date a config may name. Outside <see cref="MinDate"/>..<see cref="MaxDate"/> there is no market data,
    /// and the engine's date arithmetic (warm-up before the start, the day after the end) would leave the calendar.
    /// </summary>
    public static readonly DateOnly MinDate = new(1900, 1, 1);

    /// <summary>The latest date a config may name (see <see cref="MinDate"/>).</summary>
    public static readonly DateOnly MaxDate = new(2100, 12, 31);

    /// <summary>The annual risk-free rate's range, for a config and for a comparison alike.</summary>
    public const double MinRiskFreeRate = -0.1;

    public const double MaxRiskFreeRate = 1;

    /// <summary>Longest user id, in characters (the API's key creation and the create-key command).</summary>
    public const int MaxUserIdLength = 100;

    /// <summary>Longest free-text label (an API key's).</summary>
    public const int MaxLabelLength = 200;

    /// <summary>
    /// A date field: <c>YYYY-MM-DD</c>, or a full ISO-8601 timestamp in UTC (<c>Z</c>, <c>+00:00</c> or no offset),
    /// whose date is used. Any other offset is refused rather than converted: <c>2019-01-01T00:00:00+14:00</c> is
    /// 2018-12-31 in UTC, so converting would quietly start a day earlier than written.
    /// </summary>
    private static DateOnly? Date(string? text, string field, List<ValidationError> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new ValidationError(field, "required", $"{field} is required (YYYY-MM-DD)"));
            return null;
        }

        DateOnly date;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var plain))
        {
            date = plain;
        }
        else if (text.Length > 10 && text[4] == '-' && text[7] == '-' && text[10] == 'T'
                 && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment))
        {
            if (moment.Offset != TimeSpan.Zero)
            {
                errors.Add(new ValidationError(field, "offset",
                    $"{field} '{text}' has a UTC offset: send the date (YYYY-MM-DD) or a UTC timestamp (ending in Z), as the date you mean"));
                return null;
            }

            date = DateOnly.FromDateTime(moment.UtcDateTime);
        }
        else
        {
            errors.Add(new ValidationError(field, "format", $"{field} '{text}' is not a date (YYYY-MM-DD)"));
            return null;
        }

        if (date < MinDate || date > MaxDate)
        {
            errors.Add(new ValidationError(field, "range", $"{field} must be between {MinDate:yyyy-MM-dd} and {MaxDate:yyyy-MM-dd}"));
            return null;
        }

        return date;
    }

    /// <summary>A risk-free rate given outside a config (a comparison's): the config's range, NaN and infinities refused.</summary>
    public static ValidationError? RiskFreeRate(double value, string field)
    {
        var errors = new List<ValidationError>();
        Range(value, MinRiskFreeRate, MaxRiskFreeRate, field, errors);
        return errors.Count > 0 ? errors[0] : null;
    }

    /// <summary>A pinned version of a custom strategy: versions count from 1.</summary>
    public static ValidationError? StrategyVersion(int? version, string field = "strategyVersion") =>
        version is < 1 ? new ValidationError(field, "min", $"{field} must be at least 1") : null;

    /// <summary>A user id (an API key's owner): 1 to <see cref="MaxUserIdLength"/> characters, none of them a control character.</summary>
    public static ValidationError? UserId(string? value, string field = "userId")
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxUserIdLength)
        {
            return new ValidationError(field, "length", $"{field} must be 1 to {MaxUserIdLength} characters");
        }

        return ControlCharacters(value, field);
    }

    /// <summary>Optional free text (a label): at most <see cref="MaxLabelLength"/> characters, no control characters.</summary>
    public static ValidationError? Label(string? value, string field = "label")
    {
        if (value is null)
        {
            return null;
        }

        return value.Length > MaxLabelLength
            ? new ValidationError(field, "length", $"{field} must be at most {MaxLabelLength} characters")
            : ControlCharacters(value, field);
    }

    /// <summary>
    /// The rule for text that names something (a user, a strategy, a filter): no control characters (U+0000 to U+001F,
    /// U+007F to U+009F). They have no use in a name, PostgreSQL cannot store U+0000, and they hide in logs and lists.
    /// </summary>
    public static ValidationError? ControlCharacters(string value, string field)
    {
        var at = value.AsSpan().IndexOfAnyInRange('\u0000', '\u001f');
        if (at < 0)
        {
            at = value.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        }

        return at < 0
            ? null
            : new ValidationError(field, "controlCharacter", $"{field} contains a control character (U+{(int)value[at]:X4} at position {at}), which is not allowed");
    }
}
