using System.Text.Json.Serialization;

namespace Churn.Core.Data;

/// <summary>
/// How a CSV file separates fields and writes decimals. Either part left null is detected from the file: the
/// delimiter from the header line (comma, semicolon, tab or pipe, whichever splits it most), the decimal comma
/// whenever the delimiter is not a comma (as spreadsheets in most European locales save CSV).
/// </summary>
/// <param name="Delimiter">The field separator: ',', ';', '\t' or '|'; null to detect it.</param>
/// <param name="Decimal">The decimal mark: '.' or ','; null for a comma exactly when the delimiter is not one.</param>
public sealed record CsvDialect(
    [property: JsonConverter(typeof(CsvDialect.CharConverter))] char? Delimiter = null,
    [property: JsonConverter(typeof(CsvDialect.CharConverter))] char? Decimal = null)
{
    /// <summary>The delimiters a file may use, in the order a tie is broken.</summary>
    public static readonly char[] Delimiters = [',', ';', '\t', '|'];

    /// <summary>Detect everything.</summary>
    public static CsvDialect Detect { get; } = new();

    /// <summary>The parts of <paramref name="preferred"/> that are set, the rest from this dialect.</summary>
    public CsvDialect Over(CsvDialect? preferred) =>
        preferred is null ? this : new CsvDialect(preferred.Delimiter ?? Delimiter, preferred.Decimal ?? Decimal);

    /// <summary>Whether this is the plain dialect: comma-separated with a decimal dot.</summary>
    [JsonIgnore]
    public bool IsPlain => Delimiter is null or ',' && Decimal is null or '.';

    /// <summary>In words, e.g. "semicolon-separated, with decimal commas".</summary>
    public string Describe() =>
        $"{Name(Delimiter ?? ',')}-separated, with decimal {(Decimal == ',' ? "commas" : "points")}";

    /// <summary>A delimiter's name as people say it: "comma", "semicolon", "tab", "pipe".</summary>
    public static string Name(char delimiter) => delimiter switch
    {
        ',' => "comma",
        ';' => "semicolon",
        '\t' => "tab",
        '|' => "pipe",
        _ => $"'{delimiter}'",
    };

    /// <summary>
    /// Reads a delimiter as given on a command line or in a schema: the character itself, or comma, semicolon,
    /// tab (also <c>\t</c>) or pipe. Throws <see cref="ArgumentException"/> for anything else.
    /// </summary>
    public static char ParseDelimiter(string text) => text.Trim().ToLowerInvariant() switch
    {
        "," or "comma" => ',',
        ";" or "semicolon" => ';',
        "\t" or "\\t" or "tab" => '\t',
        "|" or "pipe" => '|',
        _ => throw new ArgumentException($"--delimiter must be one of , ; tab | (comma, semicolon, tab, pipe), not '{text}'."),
    };

    /// <summary>Reads a decimal mark: <c>.</c> (or dot, point) or <c>,</c> (or comma). Throws <see cref="ArgumentException"/> otherwise.</summary>
    public static char ParseDecimal(string text) => text.Trim().ToLowerInvariant() switch
    {
        "." or "dot" or "point" => '.',
        "," or "comma" => ',',
        _ => throw new ArgumentException($"--decimal must be '.' or ',', not '{text}'."),
    };

    /// <summary>Writes a character as a one-character JSON string (a delimiter or decimal mark in a schema file).</summary>
    public sealed class CharConverter : JsonConverter<char?>
    {
        public override char? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
        {
            if (reader.TokenType == System.Text.Json.JsonTokenType.Null)
            {
                return null;
            }
            var text = reader.GetString() ?? "";
            if (text.Length == 1 && (text[0] == '.' || Delimiters.Contains(text[0])))
            {
                return text[0];
            }
            try
            {
                return ParseDelimiter(text);
            }
            catch (ArgumentException)
            {
                throw new System.Text.Json.JsonException($"'{text}' is not a delimiter (, ; tab |) or a decimal mark (. ,).");
            }
        }

        public override void Write(System.Text.Json.Utf8JsonWriter writer, char? value, System.Text.Json.JsonSerializerOptions options)
        {
            if (value is { } c)
            {
                writer.WriteStringValue(c.ToString());
            }
            else
            {
                writer.WriteNullValue();
            }
        }
    }
}
