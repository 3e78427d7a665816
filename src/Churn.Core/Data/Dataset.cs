using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Churn.Core.Data;

/// <summary>One feature's values for every row: numbers (NaN = missing, booleans 0/1) or category texts.</summary>
public sealed class FeatureColumn
{
    public FeatureColumn(FeatureSpec spec, int rows)
    {
        Spec = spec;
        if (spec.Kind == FeatureKind.Categorical)
        {
            Categories = new string?[rows];
        }
        else
        {
            Numbers = new double[rows];
        }
    }

    internal FeatureColumn(FeatureSpec spec, double[]? numbers, string?[]? categories)
    {
        Spec = spec;
        Numbers = numbers;
        Categories = categories;
    }

    public FeatureSpec Spec { get; }
    public double[]? Numbers { get; }
    public string?[]? Categories { get; }

    /// <summary>The raw value of one row.</summary>
    public FeatureValue this[int row] => Categories is { } c ? FeatureValue.Of(c[row]) :
        double.IsNaN(Numbers![row]) ? FeatureValue.Missing : FeatureValue.Of(Numbers[row]);

    /// <summary>
    /// How often each level occurs, missing values skipped: category texts, or "true"/"false" for a boolean column
    /// (1 is true, any other number false); and how many values were counted. Not meaningful for a numeric column.
    /// A level's count is found through the few strings seen last, compared by reference, before its text is hashed:
    /// columns read from a file or the prediction log share one string per level, so a million rows cost a million
    /// comparisons of references rather than a million hashes of text.
    /// </summary>
    public (Dictionary<string, int> Counts, int Present) LevelCounts()
    {
        const int Recent = 8;
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        var counts = new List<int>();
        var recent = new string?[Recent];
        var recentSlot = new int[Recent];
        var next = 0;
        var present = 0;
        var rows = Categories?.Length ?? Numbers!.Length;
        for (var r = 0; r < rows; r++)
        {
            string? key = Categories is { } c ? c[r] : double.IsNaN(Numbers![r]) ? null : Numbers[r] == 1 ? "true" : "false";
            if (key is null)
            {
                continue;
            }
            present++;
            var slot = Seen(recent, key);
            if (slot >= 0)
            {
                counts[recentSlot[slot]]++;
                continue;
            }
            ref var level = ref CollectionsMarshal.GetValueRefOrAddDefault(slots, key, out var known);
            if (!known)
            {
                level = counts.Count;
                counts.Add(0);
            }
            counts[level]++;
            (recent[next], recentSlot[next]) = (key, level);
            next = (next + 1) % Recent;
        }
        return (slots.ToDictionary(s => s.Key, s => counts[s.Value], StringComparer.Ordinal), present);
    }

    private static int Seen(string?[] recent, string key)
    {
        for (var i = 0; i < recent.Length; i++)
        {
            if (ReferenceEquals(recent[i], key))
            {
                return i;
            }
        }
        return -1;
    }

    internal FeatureColumn Select(IReadOnlyList<int> rows)
    {
        if (Categories is { } c)
        {
            var picked = new string?[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                picked[i] = c[rows[i]];
            }
            return new FeatureColumn(Spec, null, picked);
        }
        var n = new double[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            n[i] = Numbers![rows[i]];
        }
        return new FeatureColumn(Spec, n, null);
    }
}

/// <summary>A typed, column-oriented churn dataset read through a <see cref="DatasetSchema"/>.</summary>
public sealed class Dataset
{
    public Dataset(DatasetSchema schema, FeatureColumn[] columns, string?[] ids, bool[]? labels, long[] lines, string fingerprint)
    {
        Schema = schema;
        Columns = columns;
        Ids = ids;
        Labels = labels;
        Lines = lines;
        Fingerprint = fingerprint;
    }

    public DatasetSchema Schema { get; }

    /// <summary>One column per schema feature, in schema order.</summary>
    public FeatureColumn[] Columns { get; }

    /// <summary>Customer ids (null when the schema has none or the cell is blank).</summary>
    public string?[] Ids { get; }

    /// <summary>Labels (true = churned), or null for unlabelled data.</summary>
    public bool[]? Labels { get; }

    /// <summary>The source line of each row, for messages.</summary>
    public long[] Lines { get; }

    /// <summary>SHA-256 of the source file, hex.</summary>
    public string Fingerprint { get; }

    public int RowCount => Ids.Length;

    /// <summary>The delimiter and decimal mark the source file was read with, when it came from a file.</summary>
    public CsvDialect? ReadAs { get; init; }

    /// <summary>Labels, or an error saying the data has none.</summary>
    public bool[] RequireLabels() =>
        Labels ?? throw new InvalidDataException($"The data has no label column '{Schema.LabelColumn}'.");

    /// <summary>The raw feature values of one row, in schema order.</summary>
    public FeatureValue[] Row(int row)
    {
        var values = new FeatureValue[Columns.Length];
        for (var f = 0; f < Columns.Length; f++)
        {
            values[f] = Columns[f][row];
        }
        return values;
    }

    /// <summary>A new dataset holding the given rows in the given order.</summary>
    public Dataset Select(IReadOnlyList<int> rows)
    {
        var columns = Columns.Select(c => c.Select(rows)).ToArray();
        var ids = rows.Select(r => Ids[r]).ToArray();
        var labels = Labels is { } l ? rows.Select(r => l[r]).ToArray() : null;
        var lines = rows.Select(r => Lines[r]).ToArray();
        return new Dataset(Schema, columns, ids, labels, lines, Fingerprint);
    }

    /// <summary>
    /// The rows of <paramref name="first"/> followed by those of <paramref name="second"/>, which must share its features;
    /// labels are kept only when both have them.
    /// </summary>
    public static Dataset Concat(Dataset first, Dataset second, string fingerprint)
    {
        if (!first.Schema.Features.SequenceEqual(second.Schema.Features))
        {
            throw new ArgumentException("The datasets do not have the same features.", nameof(second));
        }
        var columns = new FeatureColumn[first.Columns.Length];
        for (var f = 0; f < columns.Length; f++)
        {
            var a = first.Columns[f];
            var b = second.Columns[f];
            columns[f] = a.Categories is { } ac
                ? new FeatureColumn(a.Spec, null, [.. ac, .. b.Categories!])
                : new FeatureColumn(a.Spec, [.. a.Numbers!, .. b.Numbers!], null);
        }
        bool[]? labels = first.Labels is { } la && second.Labels is { } lb ? [.. la, .. lb] : null;
        return new Dataset(first.Schema, columns, [.. first.Ids, .. second.Ids], labels, [.. first.Lines, .. second.Lines], fingerprint);
    }

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string FingerprintFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
