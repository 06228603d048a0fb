using System.Text;
using System.Text.Json;
using Backtesting.Engine.Strategies;

namespace Backtesting.Engine.Configuration;

/// <summary>
/// The project's rules for JSON it is given (a request body, a config file), checked before anything binds it: the
/// document is well-formed, no object names a property twice (which value wins would differ between readers), no
/// string holds U+0000 (PostgreSQL cannot store it, and no field has a use for it), and it nests at most
/// <see cref="MaxDepth"/> levels. Names are compared ignoring case, as the project's JSON reading binds them. The first break is returned as an error naming its JSON path.
/// </summary>
public static class StrictJson
{
    /// <summary>Deepest nesting accepted: a config nests four levels; the rest is room, not a use.</summary>
    public const int MaxDepth = 32;

    /// <summary>Null when <paramref name="utf8"/> keeps every rule; else the first rule it breaks.</summary>
    public static ValidationError? Check(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxDepth + 1, CommentHandling = JsonCommentHandling.Disallow });
        // One frame per open container: its property names (objects) or next index (arrays), and its path.
        var frames = new Stack<Frame>();
        string? property = null;
        try
        {
            while (reader.Read())
            {
                var here = frames.Count == 0 ? "$" : frames.Peek().Child(property);
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (frames.Count >= MaxDepth)
                        {
                            return new ValidationError(here, "depth", $"the JSON nests deeper than {MaxDepth} levels");
                        }

                        frames.Push(new Frame(here, reader.TokenType == JsonTokenType.StartObject));
                        property = null;
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        frames.Pop();
                        property = null;
                        Advance(frames);
                        continue;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        var frame = frames.Peek();
                        if (name.Contains('\0', StringComparison.Ordinal))
                        {
                            return new ValidationError(frame.Child(Printable(name)), "nulCharacter", "a property name contains the NUL character (U+0000)");
                        }

                        if (!frame.Names!.Add(name))
                        {
                            return new ValidationError(frame.Child(name), "duplicate", $"property '{name}' appears more than once in the same object (names are compared ignoring case)");
                        }

                        property = name;
                        continue;
                    case JsonTokenType.String:
                        if (reader.GetString()!.Contains('\0', StringComparison.Ordinal))
                        {
                            return new ValidationError(here, "nulCharacter", $"{Leaf(here)} contains the NUL character (U+0000), which no field accepts");
                        }

                        break;
                }

                property = null;
                Advance(frames);
            }
        }
        catch (JsonException e)
        {
            var where = frames.Count == 0 ? "$" : frames.Peek().Path;
            return new ValidationError(where, "json", $"the body is not valid JSON: {Describe(e)}");
        }

        return null;
    }

    /// <summary>Checks a JSON text (a config file read as a string).</summary>
    public static ValidationError? Check(string json) => Check(Encoding.UTF8.GetBytes(json));

    /// <summary>A JSON reader's message without the internal position suffix, for error answers.</summary>
    public static string Describe(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>The field name of an error path as users write it: <c>$.a.b[2]</c> becomes <c>a.b[2]</c>, the root stays <c>$</c>.</summary>
    public static string Field(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static void Advance(Stack<Frame> frames)
    {
        if (frames.Count > 0 && !frames.Peek().IsObject)
        {
            frames.Peek().Index++;
        }
    }

    private static string Leaf(string path) => path == "$" ? "the body" : path;

    private static string Printable(string name) => name.Replace("\0", "\\u0000", StringComparison.Ordinal);

    private sealed class Frame(string path, bool isObject)
    {
        public string Path { get; } = path;
        public bool IsObject { get; } = isObject;
        public HashSet<string>? Names { get; } = isObject ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) : null;
        public int Index { get; set; }

        /// <summary>The path of this container's current member (a property name, or the next array index).</summary>
        public string Child(string? property) =>
            IsObject ? (Path == "$" ? property ?? "$" : $"{Path}.{property}") : $"{(Path == "$" ? "" : Path)}[{Index}]";
    }
}
