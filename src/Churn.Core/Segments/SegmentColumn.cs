namespace Churn.Core.Segments;

/// <summary>
/// A column that splits customers into segments for monitoring: each level of a categorical or yes/no column, or bands
/// of a numeric column cut at <see cref="Edges"/>. Written in configuration as a list separated by semicolons, a numeric
/// column followed by its band edges: <c>contract; region; tenureMonths: 6, 24</c> gives the bands <c>&lt;6</c>,
/// <c>6-24</c> and <c>24+</c> (each band holds its lower edge).
/// </summary>
/// <param name="Column">The feature's name in the schema.</param>
/// <param name="Edges">Band edges in increasing order for a numeric column; empty for a categorical or yes/no column.</param>
public sealed record SegmentColumn(string Column, IReadOnlyList<double> Edges)
{
    /// <summary>
    /// Reads a segment list such as <c>contract; tenureMonths: 6, 24</c>. Blank text is no segments.
    /// </summary>
    /// <exception cref="FormatException">An entry has no column name, a band edge is not a number, edges are not increasing, or a column is named twice; the message names it.</exception>
    public static IReadOnlyList<SegmentColumn> ParseList(string? text)
    {
        var columns = new List<SegmentColumn>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return columns;
        }
        foreach (var entry in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var name = (colon < 0 ? entry : entry[..colon]).Trim();
            if (name.Length == 0)
            {
                throw new FormatException($"segment entry '{entry}' has no column name before ':'.");
            }
            var edges = new List<double>();
            if (colon >= 0)
            {
                foreach (var part in entry[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries))
                {
                    if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var edge) || !double.IsFinite(edge))
                    {
                        throw new FormatException($"segment column '{name}': band edge '{part}' is not a number (write edges like 'tenureMonths: 6, 24').");
                    }
                    if (edges.Count > 0 && edge <= edges[^1])
                    {
                        throw new FormatException($"segment column '{name}': band edges must increase, but {Format(edge)} follows {Format(edges[^1])}.");
                    }
                    edges.Add(edge);
                }
            }
            if (columns.Any(c => c.Column == name))
            {
                throw new FormatException($"segment column '{name}' is named twice.");
            }
            columns.Add(new SegmentColumn(name, edges));
        }
        return columns;
    }

    /// <summary>
    /// The segment of every row of <paramref name="data"/> as a key <c>column=level</c> (see <see cref="Key"/>), null where
    /// the row has no value in the column.
    /// </summary>
    /// <exception cref="ArgumentException">The column is not a feature of the data's schema, or band edges are given for a column that is not numeric (or none for one that is).</exception>
    public string?[] Assign(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var column = data.Columns.FirstOrDefault(c => c.Spec.Name == Column)
            ?? throw new ArgumentException($"segment column '{Column}' is not a feature of the model's schema.");
        var numeric = column.Spec.Kind == FeatureKind.Numeric;
        if (numeric && Edges.Count == 0)
        {
            throw new ArgumentException($"segment column '{Column}' is numeric: give its band edges, e.g. '{Column}: 6, 24'.");
        }
        if (!numeric && Edges.Count > 0)
        {
            throw new ArgumentException($"segment column '{Column}' is {column.Spec.Kind.ToString().ToLowerInvariant()}: band edges apply to numeric columns only.");
        }
        var keys = new string?[data.RowCount];
        for (var r = 0; r < keys.Length; r++)
        {
            string? level = column.Categories is { } categories
                ? categories[r]
                : double.IsNaN(column.Numbers![r]) ? null
                : numeric ? Band(column.Numbers[r])
                : column.Numbers[r] == 1 ? "true" : "false";
            keys[r] = level is null ? null : Key(Column, level);
        }
        return keys;
    }

    /// <summary>The band label of a value: <c>&lt;6</c> below the first edge, <c>6-24</c> between two, <c>24+</c> from the last.</summary>
    public string Band(double value)
    {
        if (value < Edges[0])
        {
            return "<" + Format(Edges[0]);
        }
        for (var b = 1; b < Edges.Count; b++)
        {
            if (value < Edges[b])
            {
                return Format(Edges[b - 1]) + "-" + Format(Edges[b]);
            }
        }
        return Format(Edges[^1]) + "+";
    }

    /// <summary>A segment's key as stored, alerted and asked for in <c>?segment=</c>: <c>column=level</c>.</summary>
    public static string Key(string column, string level) => column + "=" + level;

    private static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
