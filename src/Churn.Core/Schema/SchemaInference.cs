using Churn.Core.Data;

namespace Churn.Core.Schema;

/// <summary>A schema proposed from a file, with the reasons for every choice a person should review.</summary>
public sealed record InferredSchema(DatasetSchema Schema, IReadOnlyList<string> Notes);

/// <summary>Proposes a schema from a CSV file: kinds from the values, identifiers and free text dropped.</summary>
public static class SchemaInference
{
    /// <summary>Categorical columns with more distinct values than this (and over 5 % of rows) are dropped as free text.</summary>
    public const int MaxCategories = 100;

    /// <summary>Reads the file once and proposes a schema for review.</summary>
    public static InferredSchema Infer(string path, string labelColumn, string positiveLabel, string? idColumn = null, IReadOnlyCollection<string>? drop = null)
    {
        using var reader = CsvReader.Open(path);
        if (reader.ColumnIndex(labelColumn) < 0)
        {
            throw new SchemaException($"{path}: the header has no column '{labelColumn}' (columns: {string.Join(", ", reader.Header)}).");
        }
        if (idColumn is not null && reader.ColumnIndex(idColumn) < 0)
        {
            throw new SchemaException($"{path}: the header has no id column '{idColumn}'.");
        }
        var dropped = new HashSet<string>(drop ?? [], StringComparer.Ordinal);
        foreach (var d in dropped)
        {
            if (reader.ColumnIndex(d) < 0)
            {
                throw new SchemaException($"{path}: the header has no column '{d}' to drop.");
            }
        }
        var n = reader.Header.Count;
        var stats = Enumerable.Range(0, n).Select(_ => new ColumnStats()).ToArray();
        var labelIndex = reader.ColumnIndex(labelColumn);
        var rows = 0;
        var positives = 0;
        while (reader.Read())
        {
            rows++;
            for (var c = 0; c < n; c++)
            {
                stats[c].Add(reader.Current[c]);
            }
            if (reader.Current[labelIndex] is { } l && string.Equals(l.Trim(), positiveLabel.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                positives++;
            }
        }
        if (positives == 0)
        {
            throw new SchemaException($"{path}: no row has '{positiveLabel}' in column '{labelColumn}'; check the positive label value.");
        }

        var notes = new List<string>();
        var features = new List<FeatureSpec>();
        for (var c = 0; c < n; c++)
        {
            var name = reader.Header[c];
            if (name == labelColumn || name == idColumn || dropped.Contains(name))
            {
                continue;
            }
            var s = stats[c];
            if (s.NonBlank == 0)
            {
                dropped.Add(name);
                notes.Add($"'{name}' dropped: every cell is blank.");
                continue;
            }
            if (s.AllUnique(rows) && (s.AllIntegers || !s.AllNumbers))
            {
                if (idColumn is null && !s.AllNumbers)
                {
                    idColumn = name;
                    notes.Add($"'{name}' taken as the id column: every value is distinct text.");
                }
                else
                {
                    dropped.Add(name);
                    notes.Add($"'{name}' dropped: every value is distinct, so it identifies rows rather than describing customers.");
                }
                continue;
            }
            FeatureKind kind;
            if (s.AllBooleans)
            {
                kind = FeatureKind.Boolean;
            }
            else if (s.AllNumbers)
            {
                kind = FeatureKind.Numeric;
            }
            else if (s.Distinct.Count > MaxCategories && s.Distinct.Count > rows / 20)
            {
                dropped.Add(name);
                notes.Add($"'{name}' dropped: {s.Distinct.Count} distinct text values look like free text, not categories.");
                continue;
            }
            else
            {
                kind = FeatureKind.Categorical;
                if (s.NumbersSeen > 0)
                {
                    notes.Add($"'{name}' is categorical: {s.NonBlank - s.NumbersSeen} of {s.NonBlank} values are not numbers.");
                }
            }
            if (s.Blank > 0)
            {
                notes.Add($"'{name}' has {s.Blank} blank cells, read as missing.");
            }
            features.Add(new FeatureSpec(name, kind));
        }
        notes.Add($"{rows} rows, {positives} labelled '{positiveLabel}' ({100.0 * positives / Math.Max(1, rows):F1} %).");
        var schema = new DatasetSchema
        {
            IdColumn = idColumn,
            LabelColumn = labelColumn,
            PositiveLabel = positiveLabel,
            Features = features,
            Drop = [.. reader.Header.Where(dropped.Contains)],
        };
        return new InferredSchema(schema, notes);
    }

    private sealed class ColumnStats
    {
        // Distinct values are tracked up to a cap: beyond it the column is free text or an identifier either way.
        private const int DistinctCap = 200_000;

        public HashSet<string> Distinct { get; } = new(StringComparer.Ordinal);
        public int NonBlank { get; private set; }
        public int Blank { get; private set; }
        public int NumbersSeen { get; private set; }
        public bool AllNumbers { get; private set; } = true;
        public bool AllIntegers { get; private set; } = true;
        public bool AllBooleans { get; private set; } = true;
        private bool _overflow;

        public void Add(string? cell)
        {
            if (cell is null)
            {
                Blank++;
                return;
            }
            NonBlank++;
            var v = cell.Trim();
            if (!_overflow)
            {
                Distinct.Add(v);
                _overflow = Distinct.Count > DistinctCap;
            }
            if (ValueParser.TryNumber(v, out var number))
            {
                NumbersSeen++;
                AllIntegers &= Math.Abs(number - Math.Round(number)) < 1e-12;
            }
            else
            {
                AllNumbers = false;
                AllIntegers = false;
            }
            AllBooleans &= ValueParser.IsBooleanWord(v);
        }

        public bool AllUnique(int rows) => !_overflow && Blank == 0 && Distinct.Count == rows && rows > 20;
    }
}
