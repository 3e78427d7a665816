using System.Text.Json;
using System.Text.Json.Serialization;

namespace Churn.Core.Schema;

/// <summary>How a feature column is read and encoded.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FeatureKind>))]
public enum FeatureKind
{
    /// <summary>A number; blank cells are missing.</summary>
    Numeric,
    /// <summary>A label from a finite set; values never seen in training are flagged, not refused.</summary>
    Categorical,
    /// <summary>A yes/no value (yes/no, true/false, 1/0, y/n, t/f).</summary>
    Boolean,
}

/// <summary>One feature column of a dataset.</summary>
public sealed record FeatureSpec(string Name, FeatureKind Kind);

/// <summary>
/// Describes a churn dataset: which column identifies a customer, which holds the label and its
/// positive value, which columns are features (and of what kind) and which are ignored.
/// </summary>
public sealed record DatasetSchema
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Column holding the customer id, if any.</summary>
    public string? IdColumn { get; init; }

    /// <summary>Column holding the churn label.</summary>
    public required string LabelColumn { get; init; }

    /// <summary>
    /// The label values that mean "churned" (at least one). Compared by <see cref="LabelRule"/>: numbers by value, text
    /// trimmed and case-insensitively. Schema files written before several values were allowed give one value as
    /// <c>positiveLabel</c>, which is read into this list.
    /// </summary>
    public IReadOnlyList<string> PositiveLabels { get; init; } = [];

    /// <summary>
    /// The label values that mean "stayed". Empty means the single class in the data besides the positive one; a file
    /// whose label has more classes is then refused rather than read with the extra classes as "stayed".
    /// </summary>
    public IReadOnlyList<string> NegativeLabels { get; init; } = [];

    /// <summary>
    /// The first positive label value; setting it sets <see cref="PositiveLabels"/> to that one value. The JSON field
    /// <c>positiveLabel</c> of older schema files and model cards is read through it.
    /// </summary>
    [JsonIgnore]
    public string PositiveLabel
    {
        get => PositiveLabels.Count > 0 ? PositiveLabels[0] : "";
        init => PositiveLabels = [value];
    }

    // Older files name one positive value. When a file has both fields, the list wins whatever the order of the fields.
    [JsonInclude]
    [JsonPropertyName("positiveLabel")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    private string? LegacyPositiveLabel
    {
        get => null;
        init
        {
            if (value is not null && !PositiveLabels.Contains(value))
            {
                PositiveLabels = [value, .. PositiveLabels];
            }
        }
    }

    /// <summary>Feature columns in model order.</summary>
    public required IReadOnlyList<FeatureSpec> Features { get; init; }

    /// <summary>Columns present in files but deliberately ignored.</summary>
    public IReadOnlyList<string> Drop { get; init; } = [];

    /// <summary>How files of this data separate fields and write decimals; null (or null parts) to detect them.</summary>
    public CsvDialect? Csv { get; init; }

    /// <summary>Index of a feature by name (compared trimmed and in Unicode form C), or -1.</summary>
    public int IndexOf(string feature) =>
        Names.ByName.TryGetValue(ValueParser.Canonical(feature), out var index) ? index : -1;

    /// <summary>
    /// Each feature's name as UTF-8, in model order, where that exact text finds the feature through
    /// <see cref="IndexOf"/>; null for a feature shadowed by an earlier one of the same canonical name. A reader of
    /// UTF-8 field names compares bytes with these before making a string. The arrays are shared: do not change them.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<byte[]?> ExactUtf8Names => Names.Utf8;

    // Each feature list's name index, built once: every field of every request is looked up here. Kept beside the record
    // rather than in it, so a schema's equality and its `with` copies stay those of its declared properties.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyList<FeatureSpec>, NameIndex> FeatureIndexes = new();

    private NameIndex Names => FeatureIndexes.GetValue(Features, NameIndex.Of);

    private sealed record NameIndex(Dictionary<string, int> ByName, byte[]?[] Utf8)
    {
        public static NameIndex Of(IReadOnlyList<FeatureSpec> features)
        {
            var byName = new Dictionary<string, int>(features.Count, StringComparer.Ordinal);
            var utf8 = new byte[]?[features.Count];
            for (var i = 0; i < features.Count; i++)
            {
                // The first of two features with one canonical name wins, as a search in model order would find it.
                if (byName.TryAdd(ValueParser.Canonical(features[i].Name), i))
                {
                    utf8[i] = System.Text.Encoding.UTF8.GetBytes(features[i].Name);
                }
            }
            return new NameIndex(byName, utf8);
        }
    }

    /// <summary>Whether a label value is one of the positive values (see <see cref="LabelRule"/>).</summary>
    public bool IsPositive(string label) => LabelRule.For(this).IsPositive(label);

    /// <summary>Checks the schema is internally consistent; returns the problems, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(LabelColumn))
        {
            problems.Add("labelColumn is empty.");
        }
        if (PositiveLabels.Count == 0 || PositiveLabels.Any(string.IsNullOrWhiteSpace))
        {
            problems.Add("positiveLabels is empty: give the label value(s) meaning 'churned'.");
        }
        else
        {
            var keys = PositiveLabels.Select(LabelRule.Key).ToHashSet(StringComparer.Ordinal);
            if (NegativeLabels.FirstOrDefault(n => keys.Contains(LabelRule.Key(n))) is { } both)
            {
                problems.Add($"'{both}' is in both positiveLabels and negativeLabels.");
            }
        }
        if (Csv?.Decimal is { } mark && mark is not ('.' or ','))
        {
            problems.Add($"csv.decimal must be '.' or ',', not '{mark}'.");
        }
        if (Csv?.Decimal == ',' && Csv.Delimiter == ',')
        {
            problems.Add("csv.decimal and csv.delimiter are both ','.");
        }
        if (Features.Count == 0)
        {
            problems.Add("features is empty: at least one feature column is needed.");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Features.Count; i++)
        {
            var f = Features[i];
            if (string.IsNullOrWhiteSpace(f.Name))
            {
                problems.Add($"features[{i}].name is empty.");
            }
            else if (!seen.Add(f.Name))
            {
                problems.Add($"features[{i}].name '{f.Name}' appears twice.");
            }
            if (f.Name == LabelColumn)
            {
                problems.Add($"features[{i}] is the label column '{LabelColumn}'.");
            }
            if (IdColumn is not null && f.Name == IdColumn)
            {
                problems.Add($"features[{i}] is the id column '{IdColumn}'.");
            }
            if (Drop.Contains(f.Name))
            {
                problems.Add($"features[{i}] '{f.Name}' is also listed in drop.");
            }
        }
        return problems;
    }

    /// <summary>Reads a schema file; throws <see cref="SchemaException"/> naming the file and the problem.</summary>
    public static DatasetSchema Load(string path) => Parse(ReadFile(path), path);

    /// <summary>Parses schema JSON; <paramref name="source"/> names it in errors.</summary>
    public static DatasetSchema Parse(string json, string source = "schema")
    {
        var schema = Deserialize<DatasetSchema>(json, source) ?? throw new SchemaException($"{source}: the schema is empty.");
        var problems = schema.Validate();
        if (problems.Count > 0)
        {
            throw new SchemaException($"{source}: {string.Join(" ", problems)}");
        }
        return schema;
    }

    /// <summary>The text of a schema file (dataset or survival); <see cref="SchemaException"/> when the file does not exist.</summary>
    internal static string ReadFile(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new SchemaException($"Schema file '{path}' does not exist.");

    /// <summary>
    /// Schema JSON read as <typeparamref name="T"/> with <see cref="JsonOptions"/> (null for a JSON null); malformed JSON is
    /// a <see cref="SchemaException"/> naming <paramref name="source"/> and, when known, the line.
    /// </summary>
    internal static T? Deserialize<T>(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}" : "";
            throw new SchemaException($"{source}: invalid schema JSON{where}: {ex.Message}");
        }
    }

    /// <summary>The schema as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Writes the schema as JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson() + "\n");
}

/// <summary>A schema that cannot be read or does not fit the data.</summary>
public sealed class SchemaException(string message) : Exception(message);
