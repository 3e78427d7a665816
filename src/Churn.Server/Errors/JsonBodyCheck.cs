using System.Text;
using System.Text.Unicode;

namespace Churn.Server.Errors;

/// <summary>
/// One token-by-token pass over a JSON body before it becomes a document. It keeps the path of every value, so what the
/// parser alone reports by byte position is refused naming the field: the same name twice in one object (422), a bare
/// <c>NaN</c> or <c>Infinity</c> (400, saying to send null), text that is not UTF-8 (400) and any other syntax error (400).
/// </summary>
internal static class JsonBodyCheck
{
    /// <summary>The deepest nesting a body may have; request bodies are a few levels deep.</summary>
    public const int MaxDepth = 32;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };

    /// <summary>Throws <see cref="InvalidBodyException"/> naming the first field that stops <paramref name="json"/> being one well-formed document.</summary>
    public static void Check(ReadOnlySpan<byte> json)
    {
        // Almost every body is fine: a pass that allocates nothing says so. Only when it finds (or cannot rule out) a
        // problem does the pass that keeps the path of every value run, to name the field.
        if (!IsClean(json))
        {
            CheckNamingFields(json);
        }
    }

    /// <summary>Most names open at once (in the objects being read) that <see cref="IsClean"/> tracks before deferring to the full check.</summary>
    private const int MaxOpenNames = 256;

    /// <summary>
    /// True when <paramref name="json"/> is one well-formed document with no name twice in an object, no bare
    /// non-finite token and only valid text, decided without allocating. False when it is not, and also when it holds
    /// something this pass leaves to <see cref="CheckNamingFields"/>: an escaped name, a long escaped string or more
    /// than <see cref="MaxOpenNames"/> names open at once.
    /// </summary>
    private static bool IsClean(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        // The names of the objects being read, as (start, length) in json; objectStart[d] is where depth d's names begin.
        Span<int> nameStart = stackalloc int[MaxOpenNames];
        Span<int> nameLength = stackalloc int[MaxOpenNames];
        Span<int> objectStart = stackalloc int[MaxDepth + 2];
        Span<byte> unescaped = stackalloc byte[256];
        var names = 0;
        var depth = 0;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        objectStart[++depth] = names;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        names = objectStart[depth--];
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.ValueSpan;
                        if (reader.ValueIsEscaped || names == MaxOpenNames || !Utf8.IsValid(name))
                        {
                            return false;
                        }
                        var at = (int)reader.TokenStartIndex + 1;
                        for (var n = objectStart[depth]; n < names; n++)
                        {
                            if (nameLength[n] == name.Length && json.Slice(nameStart[n], name.Length).SequenceEqual(name))
                            {
                                return false;
                            }
                        }
                        nameStart[names] = at;
                        nameLength[names++] = name.Length;
                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped
                            ? reader.ValueSpan.Length > unescaped.Length || !TryUnescape(ref reader, unescaped)
                            : !Utf8.IsValid(reader.ValueSpan))
                        {
                            return false;
                        }
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }
        return true;
    }

    /// <summary>Whether an escaped string decodes to valid text (no half of a surrogate pair).</summary>
    private static bool TryUnescape(ref Utf8JsonReader reader, scoped Span<byte> into)
    {
        try
        {
            return Utf8.IsValid(into[..reader.CopyString(into)]);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The check that keeps the path of every value, so the first problem found is reported naming its field.</summary>
    private static void CheckNamingFields(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        var frames = new Stack<Frame>();
        long end = 0;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        frames.Push(new Frame(TakeValuePath(frames), reader.TokenType == JsonTokenType.StartObject));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        frames.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        var frame = frames.Peek();
                        var name = Text(ref reader) ?? throw new InvalidBodyException(JsonBody.FieldName(frame.Path), "has a property name that is not valid UTF-8 text.");
                        if (!frame.Names!.Add(name))
                        {
                            throw new InvalidBodyException(
                                JsonBody.FieldName(Child(frame.Path, name)),
                                "is given twice in one object; send each field once.",
                                StatusCodes.Status422UnprocessableEntity);
                        }
                        frame.Pending = name;
                        break;
                    case JsonTokenType.String:
                        var path = TakeValuePath(frames);
                        // An unescaped string is checked in place; only escapes (which may hold half a surrogate pair) need decoding.
                        if (reader.ValueIsEscaped ? Text(ref reader) is null : !Utf8.IsValid(reader.ValueSpan))
                        {
                            throw new InvalidBodyException(JsonBody.FieldName(path), "is not valid text (invalid UTF-8 or half of a surrogate pair).");
                        }
                        break;
                    default:
                        TakeValuePath(frames);
                        break;
                }
                end = reader.BytesConsumed;
            }
        }
        catch (JsonException exception)
        {
            var field = JsonBody.FieldName(PeekValuePath(frames));
            if (NonFiniteTokenAt(json, (int)end) is { } token)
            {
                throw new InvalidBodyException(field, $"is {token}, which is not JSON; send null for a missing value.");
            }
            throw new InvalidBodyException(field, $"is not valid JSON: {exception.Message}");
        }
    }

    /// <summary>
    /// Rewrites the bare tokens <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> (which Python's json module writes for
    /// a float that pandas holds as missing) to <c>null</c>, wherever a value may stand; text inside strings is never
    /// touched. Returns null when the body holds none.
    /// </summary>
    public static byte[]? NonFiniteTokensAsNull(ReadOnlySpan<byte> json)
    {
        List<(int At, int Length)>? found = null;
        var inString = false;
        var previous = (byte)0;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                if (b == '\\')
                {
                    i++;
                }
                else if (b == '"')
                {
                    inString = false;
                    previous = b;
                }
                continue;
            }
            switch (b)
            {
                case (byte)'"':
                    inString = true;
                    break;
                case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                    continue;
                case (byte)'N' or (byte)'I' or (byte)'-' when previous is 0 or (byte)':' or (byte)',' or (byte)'[' && NonFiniteTokenAt(json, i) is { } token:
                    (found ??= []).Add((i, token.Length));
                    i += token.Length - 1;
                    break;
            }
            previous = json[i];
        }
        if (found is null)
        {
            return null;
        }
        var result = new List<byte>(json.Length + found.Count);
        var from = 0;
        foreach (var (at, length) in found)
        {
            result.AddRange(json[from..at]);
            result.AddRange("null"u8);
            from = at + length;
        }
        result.AddRange(json[from..]);
        return [.. result];
    }

    /// <summary>The non-finite token that starts at <paramref name="start"/> (after separators), or null.</summary>
    private static string? NonFiniteTokenAt(ReadOnlySpan<byte> json, int start)
    {
        var i = start;
        while (i < json.Length && json[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)':' or (byte)',')
        {
            i++;
        }
        foreach (var token in NonFiniteTokens)
        {
            var end = i + token.Length;
            if (json[i..].StartsWith(token) && (end == json.Length || json[end] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)',' or (byte)']' or (byte)'}'))
            {
                return Encoding.ASCII.GetString(token);
            }
        }
        return null;
    }

    private static readonly byte[][] NonFiniteTokens = ["NaN"u8.ToArray(), "Infinity"u8.ToArray(), "-Infinity"u8.ToArray()];

    private static string? Text(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The path of the value being read, counting it in its container.</summary>
    private static string TakeValuePath(Stack<Frame> frames)
    {
        if (frames.Count == 0)
        {
            return "$";
        }
        var frame = frames.Peek();
        if (frame.Names is not null)
        {
            var path = Child(frame.Path, frame.Pending ?? "");
            frame.Pending = null;
            return path;
        }
        return $"{frame.Path}[{frame.Count++}]";
    }

    /// <summary>The path of the value the parser stopped at: the property whose value was due, the next array item, or the container.</summary>
    private static string PeekValuePath(Stack<Frame> frames)
    {
        if (frames.Count == 0)
        {
            return "$";
        }
        var frame = frames.Peek();
        return frame.Names is null ? $"{frame.Path}[{frame.Count}]" : frame.Pending is { } name ? Child(frame.Path, name) : frame.Path;
    }

    private static string Child(string path, string name) => $"{path}.{name}";

    private sealed class Frame(string path, bool isObject)
    {
        public string Path { get; } = path;

        /// <summary>The names met so far in an object (null for an array).</summary>
        public HashSet<string>? Names { get; } = isObject ? new(StringComparer.Ordinal) : null;

        /// <summary>The property whose value is due next.</summary>
        public string? Pending { get; set; }

        /// <summary>Items read so far in an array.</summary>
        public int Count { get; set; }
    }
}
