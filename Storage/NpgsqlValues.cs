using Npgsql;
using NpgsqlTypes;

namespace Backtesting.Storage;

/// <summary>How the stores hand values to Npgsql: UTC timestamps, NULLs, and columns of rows as array parameters.</summary>
internal static class NpgsqlValues
{
    /// <summary>timestamptz takes UTC only: Local is converted, Unspecified is taken to be UTC already.</summary>
    public static DateTime Utc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    public static DateTime? Utc(DateTime? value) => value is { } v ? Utc(v) : null;

    /// <summary>The value, or DBNull for a null (a parameter needs one or the other).</summary>
    public static object DbValue<T>(T? value) where T : class => value ?? (object)DBNull.Value;

    /// <inheritdoc cref="DbValue{T}(T)"/>
    public static object DbValue<T>(T? value) where T : struct => value.HasValue ? value.Value : DBNull.Value;

    /// <summary>One column of rows as an array parameter, for the statements that insert or store many at once.</summary>
    public static void AddColumn<TItem, T>(NpgsqlBatchCommand command, string name, NpgsqlDbType type, IReadOnlyList<TItem> items,
        Func<TItem, T> value)
    {
        var column = new T[items.Count];
        for (var i = 0; i < column.Length; i++)
        {
            column[i] = value(items[i]);
        }

        command.Parameters.AddWithValue(name, NpgsqlDbType.Array | type, column);
    }
}
