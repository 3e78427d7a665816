using Churn.Core.Data;
using Churn.Core.Schema;

namespace Churn.Server.Predictions;

/// <summary>One customer to score, validated and in schema order.</summary>
public sealed record CustomerInput(string? CustomerId, FeatureValue[] Values, double? CustomerValue);

/// <summary>
/// Collects validation problems keyed by field path (<c>customers[3].features.tenureMonths</c>), and the unknown fields
/// a request carried: problems too, unless <paramref name="ignoreUnknownFields"/> (<c>api.unknown_fields</c> = ignore),
/// when they are listed in <see cref="Ignored"/> for the response to report.
/// </summary>
public sealed class FieldErrors(bool ignoreUnknownFields = false)
{
    private readonly List<string> ignored = [];

    public Dictionary<string, string[]> Errors { get; } = new(StringComparer.Ordinal);

    public bool Any => Errors.Count > 0;

    /// <summary>The unknown fields skipped, by path, in the order met; empty when unknown fields are refused.</summary>
    public IReadOnlyList<string> Ignored => ignored;

    public void Add(string path, string problem) =>
        Errors[path] = Errors.TryGetValue(path, out var existing) ? [.. existing, problem] : [problem];

    /// <summary>
    /// An optional field: JSON null leaves it unset (null); a value <paramref name="read"/> turns into a
    /// <typeparamref name="T"/> is returned; anything else adds <paramref name="problem"/> under <paramref name="path"/>.
    /// </summary>
    public T? Optional<T>(string path, JsonElement value, Func<JsonElement, T?> read, string problem)
        where T : struct
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (read(value) is { } result)
        {
            return result;
        }
        Add(path, problem);
        return null;
    }

    /// <summary>A field the request may not carry: a problem, or under <c>api.unknown_fields</c> = ignore a field skipped.</summary>
    public void Unknown(string path, string problem)
    {
        if (ignoreUnknownFields)
        {
            ignored.Add(path);
        }
        else
        {
            Add(path, problem);
        }
    }
}

/// <summary>
/// Turns JSON into feature values by the model's schema, the same way for every protocol (/predict, /invocations,
/// /v2 infer): numbers for numeric features (numeric text is accepted), booleans as true/false, 1/0 or yes/no,
/// categories as text; null is an explicitly missing value. Unseen categories pass and are flagged by the scorer.
/// </summary>
public static class FeatureInput
{
    /// <summary>Reads one <c>{"customerId", "features", "customerValue"}</c> object.</summary>
    public static CustomerInput? ReadCustomer(JsonElement item, string prefix, DatasetSchema schema, FieldErrors errors)
    {
        var at = prefix.Length == 0 ? "" : prefix + ".";
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add(prefix.Length == 0 ? "$" : prefix, "must be an object with customerId, features and customerValue.");
            return null;
        }
        string? customerId = null;
        double? customerValue = null;
        FeatureValue[]? values = null;
        foreach (var property in item.EnumerateObject())
        {
            switch (property.Name)
            {
                case "customerId":
                    customerId = property.Value.ValueKind switch
                    {
                        JsonValueKind.String when property.Value.GetString()!.Length <= NameColumns.MaxLength => property.Value.GetString(),
                        JsonValueKind.Number => property.Value.GetRawText(),
                        JsonValueKind.Null => null,
                        _ => Bad(errors, at + "customerId", $"must be a string of at most {NameColumns.MaxLength} characters."),
                    };
                    break;
                case "customerValue":
                    customerValue = errors.Optional<double>(at + "customerValue", property.Value,
                        v => v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) && d >= 0 ? d : null,
                        "must be a finite number >= 0.");
                    break;
                case "features":
                    values = ReadFeatures(property.Value, at + "features", schema, errors);
                    break;
                default:
                    errors.Unknown(at + property.Name, "is not a known field; send customerId, features and customerValue.");
                    break;
            }
        }
        if (values is null && !errors.Errors.Keys.Any(k => k.StartsWith(at + "features", StringComparison.Ordinal)))
        {
            errors.Add(at + "features", "is required.");
        }
        return values is null ? null : new CustomerInput(customerId, values, customerValue);
    }

    /// <summary>Reads a <c>{"feature": value}</c> object; every schema feature must be present, no other.</summary>
    public static FeatureValue[]? ReadFeatures(JsonElement features, string path, DatasetSchema schema, FieldErrors errors)
    {
        if (features.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, "must be an object of feature values.");
            return null;
        }
        var reader = new ColumnReader(path, schema, errors);
        var exact = schema.ExactUtf8Names;
        var next = 0;
        foreach (var property in features.EnumerateObject())
        {
            // Clients send the features in the model's order as a rule: the next feature's exact name is compared as
            // UTF-8 first, so a well-formed customer costs no string per field; any other name takes the general way.
            if (next < exact.Count && exact[next] is { } name && property.NameEquals(name))
            {
                reader.Take(next, property.Value, property, name: null);
                next++;
            }
            else if (reader.Take(property.Name, property.Value, allowIdColumn: false) is var index and >= 0)
            {
                next = index + 1;
            }
        }
        return reader.Finish();
    }

    /// <summary>Reads named values (object properties, or a data frame's columns zipped with one row).</summary>
    public static FeatureValue[] ReadColumns(IEnumerable<(string Name, JsonElement Value)> columns, string path, DatasetSchema schema, FieldErrors errors, bool allowIdColumn = false)
    {
        var reader = new ColumnReader(path, schema, errors);
        foreach (var (name, value) in columns)
        {
            reader.Take(name, value, allowIdColumn);
        }
        return reader.Finish();
    }

    /// <summary>
    /// One customer's values as fields arrive: each feature once, values read by its kind; unknown, repeated, bad and
    /// missing fields are problems named by their path. A field's path is only spelt out when it has a problem.
    /// </summary>
    private readonly struct ColumnReader(string path, DatasetSchema schema, FieldErrors errors)
    {
        private readonly FeatureValue[] values = new FeatureValue[schema.Features.Count];
        private readonly bool[] seen = new bool[schema.Features.Count];

        /// <summary>Takes a field by name; returns the feature's index, or -1 when the name is no feature.</summary>
        public int Take(string name, JsonElement value, bool allowIdColumn)
        {
            var index = schema.IndexOf(name);
            if (index < 0)
            {
                if (!(allowIdColumn && name == schema.IdColumn))
                {
                    errors.Unknown($"{path}.{name}", "is not a feature of this model.");
                }
                return -1;
            }
            Take(index, value, property: null, name);
            return index;
        }

        /// <summary>Takes the value of feature <paramref name="index"/>, from a field named <paramref name="name"/> or, when that is null, by <paramref name="property"/>.</summary>
        public void Take(int index, JsonElement value, JsonProperty? property, string? name)
        {
            if (seen[index])
            {
                // Two names for one feature (the same name, or one written in another Unicode form): neither value wins.
                errors.Add($"{path}.{name ?? property!.Value.Name}", $"gives feature {schema.Features[index].Name} a second time; send each feature once.");
                return;
            }
            seen[index] = true;
            values[index] = Read(schema.Features[index], value, out var problem);
            if (problem is not null)
            {
                errors.Add($"{path}.{name ?? property!.Value.Name}", problem);
            }
        }

        public FeatureValue[] Finish()
        {
            for (var f = 0; f < seen.Length; f++)
            {
                if (!seen[f])
                {
                    errors.Add($"{path}.{schema.Features[f].Name}", "is required (send null when the value is unknown).");
                }
            }
            return values;
        }
    }

    /// <summary>Reads one value for <paramref name="spec"/>; records a problem and returns missing when it does not fit.</summary>
    public static FeatureValue ReadValue(FeatureSpec spec, JsonElement value, string path, FieldErrors errors)
    {
        var read = Read(spec, value, out var problem);
        if (problem is not null)
        {
            errors.Add(path, problem);
        }
        return read;
    }

    /// <summary>Reads one value for <paramref name="spec"/>; when it does not fit, returns missing and says why in <paramref name="problem"/>.</summary>
    private static FeatureValue Read(FeatureSpec spec, JsonElement value, out string? problem)
    {
        problem = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return FeatureValue.Missing;
            case JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Undefined:
                problem = $"must be {Expected(spec.Kind)}, not an {(value.ValueKind == JsonValueKind.Array ? "array" : "object")}.";
                return FeatureValue.Missing;
        }
        switch (spec.Kind)
        {
            case FeatureKind.Numeric:
                if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var n) && double.IsFinite(n))
                {
                    return FeatureValue.Of(n);
                }
                if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text && ValueParser.TryNumber(text, out var parsed))
                {
                    return double.IsNaN(parsed) ? FeatureValue.Missing : FeatureValue.Of(parsed);
                }
                problem = value.ValueKind == JsonValueKind.Number
                    ? "must be a finite number (this one is out of range)."
                    : $"must be a finite number; got {Describe(value)}.";
                return FeatureValue.Missing;
            case FeatureKind.Boolean:
                var candidate = value.ValueKind switch
                {
                    JsonValueKind.True => FeatureValue.Of(1),
                    JsonValueKind.False => FeatureValue.Of(0),
                    JsonValueKind.Number => value.TryGetDouble(out var d) ? FeatureValue.Of(d) : FeatureValue.Of(value.GetRawText()),
                    _ => FeatureValue.Of(value.GetString()),
                };
                if (!ValueParser.TryBoolean(candidate, out _))
                {
                    problem = $"must be true/false, yes/no or 1/0; got {Describe(value)}.";
                    return FeatureValue.Missing;
                }
                return candidate;
            default:
                if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    problem = "must be a category name (a string).";
                    return FeatureValue.Missing;
                }
                return FeatureValue.Of(value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText());
        }
    }

    private static string Expected(FeatureKind kind) => kind switch
    {
        FeatureKind.Numeric => "a number",
        FeatureKind.Boolean => "true/false",
        _ => "a category name",
    };

    private static string Describe(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length > 40 ? raw[..40] + "…" : raw;
    }

    private static string? Bad(FieldErrors errors, string path, string problem)
    {
        errors.Add(path, problem);
        return null;
    }
}
