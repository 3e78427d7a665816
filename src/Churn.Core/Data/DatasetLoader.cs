using Churn.Core.Schema;

namespace Churn.Core.Data;

/// <summary>A cell that could not be read as its schema kind.</summary>
public sealed record CellIssue(long Line, int Column, string ColumnName, string? Value, string Problem);

/// <summary>Whether a file must carry the label column.</summary>
public enum LabelRequirement
{
    /// <summary>Training and evaluation: the label column must be present and every label filled.</summary>
    Required,
    /// <summary>Scoring: labels are read when the column is present, else ignored.</summary>
    Optional,
}

/// <summary>What a load found besides the data: ignored columns and (in lenient mode) bad cells.</summary>
public sealed record LoadReport(IReadOnlyList<string> IgnoredColumns, IReadOnlyList<CellIssue> Issues);

/// <summary>Reads a CSV file into a typed <see cref="Dataset"/> through a schema.</summary>
public static class DatasetLoader
{
    /// <summary>
    /// Loads a file strictly: the first cell that does not fit its kind is an error naming line and
    /// column. Columns that are neither features, id, label nor listed to drop are reported, not used.
    /// </summary>
    public static Dataset Load(string path, DatasetSchema schema, LabelRequirement labels = LabelRequirement.Required) =>
        Load(path, schema, labels, lenient: false, out _);

    /// <summary>
    /// Loads a file; with <paramref name="lenient"/> bad cells become missing values and are listed in
    /// the report instead of stopping the load (used by the data-quality report).
    /// </summary>
    public static Dataset Load(string path, DatasetSchema schema, LabelRequirement labels, bool lenient, out LoadReport report)
    {
        var fingerprint = Dataset.FingerprintFile(path);
        using var reader = CsvReader.Open(path);
        return Read(reader, schema, labels, lenient, fingerprint, out report);
    }

    /// <summary>Reads from an open reader (streams, uploads).</summary>
    public static Dataset Read(CsvReader reader, DatasetSchema schema, LabelRequirement labels, bool lenient, string fingerprint, out LoadReport report)
    {
        var featureIndex = new int[schema.Features.Count];
        for (var f = 0; f < featureIndex.Length; f++)
        {
            featureIndex[f] = reader.ColumnIndex(schema.Features[f].Name);
            if (featureIndex[f] < 0)
            {
                throw new CsvFormatException(reader.SourceName, 1, reader.Header.Count + 1,
                    $"the header has no column '{schema.Features[f].Name}', which the schema lists as a feature.");
            }
        }
        var idIndex = schema.IdColumn is { } idCol ? reader.ColumnIndex(idCol) : -1;
        var labelIndex = reader.ColumnIndex(schema.LabelColumn);
        if (labelIndex < 0 && labels == LabelRequirement.Required)
        {
            throw new CsvFormatException(reader.SourceName, 1, reader.Header.Count + 1,
                $"the header has no label column '{schema.LabelColumn}'.");
        }
        var known = new HashSet<string>(schema.Features.Select(f => f.Name)) { schema.LabelColumn };
        if (schema.IdColumn is not null)
        {
            known.Add(schema.IdColumn);
        }
        known.UnionWith(schema.Drop);
        var ignored = reader.Header.Where(h => !known.Contains(h)).ToList();

        var issues = new List<CellIssue>();
        var numbers = schema.Features.Select(f => f.Kind == FeatureKind.Categorical ? null : new List<double>()).ToArray();
        var texts = schema.Features.Select(f => f.Kind == FeatureKind.Categorical ? new List<string?>() : null).ToArray();
        var ids = new List<string?>();
        var labelList = labelIndex >= 0 ? new List<bool>() : null;
        var lines = new List<long>();
        var interned = schema.Features.Select(_ => new Dictionary<string, string>(StringComparer.Ordinal)).ToArray();

        while (reader.Read())
        {
            var cells = reader.Current;
            for (var f = 0; f < featureIndex.Length; f++)
            {
                var col = featureIndex[f];
                var cell = cells[col];
                var spec = schema.Features[f];
                switch (spec.Kind)
                {
                    case FeatureKind.Categorical:
                        // Interning keeps one string per distinct category instead of one per row.
                        string? value = null;
                        if (cell is not null)
                        {
                            var trimmed = cell.Trim();
                            if (!interned[f].TryGetValue(trimmed, out value))
                            {
                                value = trimmed;
                                interned[f][trimmed] = trimmed;
                            }
                        }
                        texts[f]!.Add(value);
                        break;
                    case FeatureKind.Numeric:
                        if (!ValueParser.TryNumber(cell, out var n))
                        {
                            Bad(reader, col, cell, "is not a number", lenient, issues);
                            n = double.NaN;
                        }
                        numbers[f]!.Add(n);
                        break;
                    case FeatureKind.Boolean:
                        if (!ValueParser.TryBoolean(cell, out var b))
                        {
                            Bad(reader, col, cell, "is not a yes/no value (yes/no, true/false, 1/0)", lenient, issues);
                            b = double.NaN;
                        }
                        numbers[f]!.Add(b);
                        break;
                }
            }
            ids.Add(idIndex >= 0 ? cells[idIndex]?.Trim() : null);
            if (labelList is not null)
            {
                var label = cells[labelIndex];
                if (label is null)
                {
                    if (labels == LabelRequirement.Required || !lenient)
                    {
                        Bad(reader, labelIndex, label, "the label is blank", lenient, issues);
                    }
                    labelList.Add(false);
                }
                else
                {
                    labelList.Add(schema.IsPositive(label));
                }
            }
            lines.Add(reader.RecordLine);
        }

        var rows = ids.Count;
        var columns = new FeatureColumn[schema.Features.Count];
        for (var f = 0; f < columns.Length; f++)
        {
            var column = new FeatureColumn(schema.Features[f], rows);
            if (column.Categories is { } c)
            {
                texts[f]!.CopyTo(c);
            }
            else
            {
                numbers[f]!.CopyTo(column.Numbers!);
            }
            columns[f] = column;
        }
        report = new LoadReport(ignored, issues);
        return new Dataset(schema, columns, [.. ids], labelList?.ToArray(), [.. lines], fingerprint);
    }

    private static void Bad(CsvReader reader, int col, string? cell, string problem, bool lenient, List<CellIssue> issues)
    {
        var name = reader.Header[col];
        var shown = cell is null ? "" : $"'{Truncate(cell)}' ";
        if (!lenient)
        {
            throw new CsvFormatException(reader.SourceName, reader.RecordLine, col + 1, $"column '{name}': {shown}{problem}.");
        }
        issues.Add(new CellIssue(reader.RecordLine, col + 1, name, cell, problem));
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
