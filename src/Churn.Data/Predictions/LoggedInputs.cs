using Churn.Core.Data;
using Churn.Core.Schema;

namespace Churn.Data.Predictions;

/// <summary>Reads the inputs of logged predictions (the JSON objects the predictor logs) back into datasets.</summary>
public static class LoggedInputs
{
    /// <summary>Logged inputs back into a column-oriented dataset through the schema, as a CSV file would be read.</summary>
    public static Dataset ToDataset(DatasetSchema schema, IReadOnlyList<(string? CustomerId, string InputsJson)> rows, bool[]? labels = null, string fingerprint = "prediction-log")
    {
        var columns = schema.Features.Select(f => new FeatureColumn(f, rows.Count)).ToArray();
        var index = schema.Features.Select((f, i) => (f.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        for (var r = 0; r < rows.Count; r++)
        {
            foreach (var column in columns)
            {
                if (column.Numbers is { } n)
                {
                    n[r] = double.NaN;
                }
            }
            using var doc = JsonDocument.Parse(rows[r].InputsJson);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!index.TryGetValue(property.Name, out var f))
                {
                    continue;
                }
                var column = columns[f];
                var value = property.Value;
                if (column.Categories is { } c)
                {
                    c[r] = value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Null => null,
                        _ => value.GetRawText(),
                    };
                    continue;
                }
                var raw = value.ValueKind switch
                {
                    JsonValueKind.Number => FeatureValue.Of(value.GetDouble()),
                    JsonValueKind.True => FeatureValue.Of(1),
                    JsonValueKind.False => FeatureValue.Of(0),
                    JsonValueKind.String => FeatureValue.Of(value.GetString()),
                    _ => FeatureValue.Missing,
                };
                column.Numbers![r] = ValueParser.TryNumberOf(column.Spec.Kind, raw, out var number) ? number : double.NaN;
            }
        }
        var ids = rows.Select(r => r.CustomerId).ToArray();
        return new Dataset(schema, columns, ids, labels, new long[rows.Count], fingerprint);
    }

}
