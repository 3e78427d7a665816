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

    /// <summary>The label value that means "churned" (compared case-insensitively, trimmed).</summary>
    public required string PositiveLabel { get; init; }

    /// <summary>Feature columns in model order.</summary>
    public required IReadOnlyList<FeatureSpec> Features { get; init; }

    /// <summary>Columns present in files but deliberately ignored.</summary>
    public IReadOnlyList<string> Drop { get; init; } = [];

    /// <summary>Index of a feature by name, or -1.</summary>
    public int IndexOf(string feature)
    {
        for (var i = 0; i < Features.Count; i++)
        {
            if (string.Equals(Features[i].Name, feature, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Whether a label cell means "churned".</summary>
    public bool IsPositive(string label) =>
        string.Equals(label.Trim(), PositiveLabel.Trim(), StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks the schema is internally consistent; returns the problems, empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(LabelColumn))
        {
            problems.Add("labelColumn is empty.");
        }
        if (string.IsNullOrWhiteSpace(PositiveLabel))
        {
            problems.Add("positiveLabel is empty.");
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
    public static DatasetSchema Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new SchemaException($"Schema file '{path}' does not exist.");
        }
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses schema JSON; <paramref name="source"/> names it in errors.</summary>
    public static DatasetSchema Parse(string json, string source = "schema")
    {
        DatasetSchema? schema;
        try
        {
            schema = JsonSerializer.Deserialize<DatasetSchema>(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}" : "";
            throw new SchemaException($"{source}: invalid schema JSON{where}: {ex.Message}");
        }
        if (schema is null)
        {
            throw new SchemaException($"{source}: the schema is empty.");
        }
        var problems = schema.Validate();
        if (problems.Count > 0)
        {
            throw new SchemaException($"{source}: {string.Join(" ", problems)}");
        }
        return schema;
    }

    /// <summary>The schema as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Writes the schema as JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson() + "\n");
}

/// <summary>A schema that cannot be read or does not fit the data.</summary>
public sealed class SchemaException(string message) : Exception(message);
