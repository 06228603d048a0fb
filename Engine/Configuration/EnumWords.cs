using System.Text.Json;

namespace Backtesting.Engine.Configuration;

/// <summary>
/// The words of an enumeration on the wire: its member names in camelCase (matched ignoring case), and nothing else.
/// <see cref="Enum.TryParse{TEnum}(string?, bool, out TEnum)"/> also takes numbers (<c>"3"</c>, <c>"99"</c>) and
/// comma-joined names (<c>"low,high"</c>), which name no documented value.
/// </summary>
public static class EnumWords
{
    /// <summary>The accepted words, for messages and documentation: <c>low, normal, high, urgent</c>.</summary>
    public static IReadOnlyList<string> Of<TEnum>() where TEnum : struct, Enum =>
        Enum.GetNames<TEnum>().Select(JsonNamingPolicy.CamelCase.ConvertName).ToArray();

    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum
    {
        foreach (var name in Enum.GetNames<TEnum>())
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                value = Enum.Parse<TEnum>(name);
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>The message of a word that is not one of <typeparamref name="TEnum"/>'s: what was sent and what is allowed.</summary>
    public static string NotAllowed<TEnum>(string? text) where TEnum : struct, Enum =>
        $"'{text}' is not allowed: use one of {string.Join(", ", Of<TEnum>())}";
}
