namespace Backtesting.Engine.Data.Lean;

/// <summary>
/// Converts local wall-clock times of one time zone to UTC ticks. Data comes day by day, so the
/// UTC offset is looked up once per day; only a day with a DST switch converts each time.
/// </summary>
internal sealed class ExchangeClock
{
    private readonly TimeZoneInfo _zone;
    private readonly bool _isUtc;
    private int _day = int.MinValue;
    private long _offsetTicks;
    private bool _dayHasSwitch;

    public ExchangeClock(TimeZoneInfo zone)
    {
        _zone = zone;
        _isUtc = zone.Id == TimeZoneInfo.Utc.Id || (zone.BaseUtcOffset == TimeSpan.Zero && !zone.SupportsDaylightSavingTime);
    }

    public TimeZoneInfo Zone => _zone;

    /// <summary>UTC ticks of <paramref name="ticksOfDay"/> after local midnight of the day.</summary>
    public long ToUtcTicks(int dayNumber, long ticksOfDay)
    {
        var localTicks = ((long)dayNumber * TimeSpan.TicksPerDay) + ticksOfDay;
        if (_isUtc)
            return localTicks;
        if (dayNumber != _day)
            LoadDay(dayNumber);
        if (!_dayHasSwitch)
            return localTicks - _offsetTicks;
        // Times skipped by a spring-forward switch get the standard offset, as TimeZoneInfo gives.
        var local = new DateTime(localTicks, DateTimeKind.Unspecified);
        return localTicks - _zone.GetUtcOffset(local).Ticks;
    }

    public long ToUtcTicks(DateOnly date, TimeSpan timeOfDay) => ToUtcTicks(date.DayNumber, timeOfDay.Ticks);

    /// <summary>The local date of a UTC instant.</summary>
    public DateOnly LocalDate(long utcTicks)
    {
        if (_isUtc)
            return DateOnly.FromDayNumber((int)(utcTicks / TimeSpan.TicksPerDay));
        var local = TimeZoneInfo.ConvertTimeFromUtc(new DateTime(utcTicks, DateTimeKind.Utc), _zone);
        return DateOnly.FromDateTime(local);
    }

    private void LoadDay(int dayNumber)
    {
        _day = dayNumber;
        var dayStartTicks = (long)dayNumber * TimeSpan.TicksPerDay;
        var startOffset = _zone.GetUtcOffset(new DateTime(dayStartTicks, DateTimeKind.Unspecified));
        var nextOffset = _zone.GetUtcOffset(new DateTime(dayStartTicks + TimeSpan.TicksPerDay, DateTimeKind.Unspecified));
        _offsetTicks = startOffset.Ticks;
        _dayHasSwitch = startOffset != nextOffset;
    }
}
