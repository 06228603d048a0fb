namespace Backtesting.Engine.Data;

/// <summary>
/// The one home of the rules on instrument names. An instrument id (<c>SYMBOL</c> or <c>SYMBOL.VENUE</c>) is valid
/// when the catalog knows it: the syntactic check here refuses only what no catalog could hold (empty, white space,
/// control characters, an absurd length), so every id the catalog lists passes it, whatever its venue or length.
/// Names that <c>worker import</c> writes into the catalog follow <see cref="NameProblem"/>, which is stricter, so an
/// imported id always passes <see cref="IdProblem"/>.
/// </summary>
public static class InstrumentIds
{
    /// <summary>The longest id accepted (far beyond any real ticker and venue).</summary>
    public const int MaxIdLength = 64;

    /// <summary>The longest symbol or venue an import may name: two of them and the dot fit in <see cref="MaxIdLength"/>.</summary>
    public const int MaxNameLength = 31;

    /// <summary>Why no catalog could hold <paramref name="id"/>, or null when it may be looked up.</summary>
    public static string? IdProblem(string? id)
    {
        if (string.IsNullOrEmpty(id))
            return "an instrument id cannot be empty";
        if (id.Length > MaxIdLength)
            return $"an instrument id is at most {MaxIdLength} characters ({id.Length} given)";
        foreach (var c in id)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
                return "an instrument id cannot hold white space or control characters";
        }

        return null;
    }

    /// <summary>Why <paramref name="name"/> cannot be an imported symbol or venue, or null when it can.</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return "must not be empty";
        if (name.Length > MaxNameLength)
            return $"must be at most {MaxNameLength} characters";
        return name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? null
            : "must be letters, digits, '-' or '_'";
    }
}
