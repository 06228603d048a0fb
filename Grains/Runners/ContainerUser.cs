using System.Globalization;

namespace Backtesting.Grains.Runners;

/// <summary>
/// The numeric, non-root uid:gid a worker container runs as (Backtesting:Docker:User). Numeric, because the host
/// must give the attempt's folder to the same ids the container uses, and names would be resolved differently
/// inside the image and on the host.
/// </summary>
public readonly record struct ContainerUser(int Uid, int Gid)
{
    public override string ToString() => $"{Uid.ToString(CultureInfo.InvariantCulture)}:{Gid.ToString(CultureInfo.InvariantCulture)}";

    public static ContainerUser Parse(string value) =>
        TryParse(value, out var user, out var error) ? user : throw new InvalidOperationException(error);

    public static bool TryParse(string? value, out ContainerUser user, out string? error)
    {
        user = default;
        var parts = (value ?? "").Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var gid))
        {
            error = $"Backtesting:Docker:User must be a numeric uid:gid such as 10001:10001, not '{value}'";
            return false;
        }

        if (uid == 0 || gid == 0)
        {
            error = $"Backtesting:Docker:User must not be root (uid or gid 0): '{value}'";
            return false;
        }

        user = new ContainerUser(uid, gid);
        error = null;
        return true;
    }
}
