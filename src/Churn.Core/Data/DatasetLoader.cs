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
    /// <param name="path">The CSV file.</param>
    /// <param name="schema">How to read it; its <see cref="DatasetSchema.Csv"/> dialect applies unless <paramref name="dialect"/> says otherwise.</param>
    /// <param name="labels">Whether the label column must be present.</param>
    /// <param name="dialect">Delimiter and decimal mark given by the user (e.g. on the command line); null parts fall back to the schema's, then to detection.</param>
    /// <exception cref="CsvFormatException">A malformed file, a missing column or a cell that does not fit its kind.</exception>
    /// <exception cref="InvalidDataException">The label column does not hold exactly the two classes the schema names.</exception>
    public static Dataset Load(string path, DatasetSchema schema, LabelRequirement labels = LabelRequirement.Required, CsvDialect? dialect = null) =>
        Load(path, schema, labels, lenient: false, out _, dialect);

    /// <summary>
    /// Loads a file; with <paramref name="lenient"/> bad cells become missing values and are listed in
    /// the report instead of stopping the load (used by the data-quality report).
    /// </summary>
    public static Dataset Load(string path, DatasetSchema schema, LabelRequirement labels, bool lenient, out LoadReport report, CsvDialect? dialect = null)
    {
        var fingerprint = Dataset.FingerprintFile(path);
        using var reader = CsvReader.Open(path, DialectFor(schema, dialect));
        return Read(reader, schema, labels, lenient, fingerprint, out report);
    }

    /// <summary>The dialect to read a file with: the user's choice, then the schema's, then detection.</summary>
    public static CsvDialect DialectFor(DatasetSchema schema, CsvDialect? given) => (schema.Csv ?? CsvDialect.Detect).Over(given);

    /// <summary>
    /// Reads from an open reader (streams, uploads). With <paramref name="lenient"/>, bad cells and a label column that
    /// does not resolve to two classes are listed in the report (the labels are then left out) instead of stopping the load.
    /// </summary>
    public static Dataset Read(CsvReader reader, DatasetSchema schema, LabelRequirement labels, bool lenient, string fingerprint, out LoadReport report)
    {
        var featureIndex = reader.RequireFeatureColumns(schema, "which the schema lists as a feature");
        var idIndex = schema.IdColumn is { } idCol ? reader.ColumnIndex(idCol) : -1;
        var labelIndex = labels == LabelRequirement.Required ? reader.RequireColumn(schema.LabelColumn, "the label column") : reader.ColumnIndex(schema.LabelColumn);
        var known = new HashSet<string>(schema.Features.Select(f => ValueParser.Canonical(f.Name))) { ValueParser.Canonical(schema.LabelColumn) };
        if (schema.IdColumn is not null)
        {
            known.Add(ValueParser.Canonical(schema.IdColumn));
        }
        known.UnionWith(schema.Drop.Select(ValueParser.Canonical));
        var ignored = reader.Header.Where(h => !known.Contains(h)).ToList();

        var issues = new List<CellIssue>();
        var numbers = schema.Features.Select(f => f.Kind == FeatureKind.Categorical ? null : new List<double>()).ToArray();
        var texts = schema.Features.Select(f => f.Kind == FeatureKind.Categorical ? new List<string?>() : null).ToArray();
        var ids = new List<string?>();
        var labelIds = labelIndex >= 0 ? new List<int>() : null;
        var tally = new LabelTally();
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
                        // Interning keeps one string per distinct category instead of one per row, and normalises each
                        // spelling once (form C, so categories match however the file was normalised).
                        string? value = null;
                        if (cell is not null && !ValueParser.IsMissingMarker(cell) && !interned[f].TryGetValue(cell, out value))
                        {
                            value = ValueParser.Canonical(cell);
                            interned[f][cell] = value;
                        }
                        texts[f]!.Add(value);
                        break;
                    case FeatureKind.Numeric or FeatureKind.Boolean:
                        if (!ValueParser.TryNumberOf(spec.Kind, cell, out var n))
                        {
                            var problem = spec.Kind == FeatureKind.Boolean ? "is not a yes/no value (yes/no, true/false, y/n, 1/0)" : "is not a number";
                            Bad(reader, col, cell, problem, lenient, issues);
                            n = double.NaN;
                        }
                        numbers[f]!.Add(n);
                        break;
                }
            }
            ids.Add(idIndex >= 0 ? cells[idIndex]?.Trim() : null);
            if (labelIds is not null)
            {
                var label = cells[labelIndex];
                if (label is null || ValueParser.IsMissingMarker(label))
                {
                    if (labels == LabelRequirement.Required || !lenient)
                    {
                        Bad(reader, labelIndex, label, "the label is blank", lenient, issues);
                    }
                    labelIds.Add(-1);
                }
                else
                {
                    labelIds.Add(tally.Add(label));
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
        var labelled = labelIds is null ? null : ResolveLabels(schema, labelIndex + 1, labelIds, tally, reader.SourceName, lenient, labels == LabelRequirement.Optional, issues);
        report = new LoadReport(ignored, issues);
        return new Dataset(schema, columns, [.. ids], labelled, [.. lines], fingerprint) { ReadAs = reader.Dialect };
    }

    // Where labels are optional (scoring, drift), a label column that does not resolve leaves the data unlabelled instead
    // of stopping a load that does not need it; the quality report still lists why.
    private static bool[]? ResolveLabels(DatasetSchema schema, int labelColumn, List<int> labelIds, LabelTally tally, string source, bool lenient, bool optional, List<CellIssue> issues)
    {
        IReadOnlyDictionary<string, bool> classes;
        try
        {
            classes = LabelRule.For(schema).Resolve(tally.Counts, source, requirePositive: false);
        }
        catch (InvalidDataException ex) when (lenient)
        {
            issues.Add(new CellIssue(1, labelColumn, schema.LabelColumn, null, ex.Message));
            return null;
        }
        catch (InvalidDataException) when (optional)
        {
            return null;
        }
        var positive = new bool[tally.Counts.Count];
        for (var id = 0; id < positive.Length; id++)
        {
            positive[id] = classes[tally[id]];
        }
        // A blank label (id -1) only survives a lenient load, where it counts as "stayed" as before.
        return [.. labelIds.Select(id => id >= 0 && positive[id])];
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
