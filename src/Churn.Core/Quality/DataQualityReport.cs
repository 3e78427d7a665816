namespace Churn.Core.Quality;

/// <summary>Quality of one column of a file.</summary>
public sealed record ColumnQuality
{
    public required string Column { get; init; }
    public required FeatureKind Kind { get; init; }
    public required double MissingShare { get; init; }

    /// <summary>Cells read as a value (neither missing nor unparseable); 0 means the column is empty in this file.</summary>
    public int Present { get; init; }

    /// <summary>Cells that could not be read as the column's kind.</summary>
    public required int Unparseable { get; init; }

    /// <summary>Numeric: share of present values outside the reference [min, max] (null without a reference).</summary>
    public double? OutOfRangeShare { get; init; }

    /// <summary>
    /// Categorical: values never seen in the reference, with their row counts; the <see cref="DataQualityAnalyzer.MaxUnseenListed"/>
    /// most frequent when there are more (<see cref="UnseenLevels"/> counts them all).
    /// </summary>
    public IReadOnlyDictionary<string, int> UnseenCategories { get; init; } = new Dictionary<string, int>();

    /// <summary>Categorical: how many distinct values never seen in the reference the column holds (listed or not).</summary>
    public int UnseenLevels { get; init; }

    /// <summary>Share of rows holding an unseen category (0 without a reference).</summary>
    public double UnseenShare { get; init; }
}

/// <summary>A data-quality report for one file, optionally against a model's reference profile.</summary>
public sealed record DataQualityReport
{
    public required int Rows { get; init; }
    public required IReadOnlyList<ColumnQuality> Columns { get; init; }
    public required int DuplicateIds { get; init; }
    public IReadOnlyList<string> DuplicateIdExamples { get; init; } = [];

    /// <summary>Share of churned rows among labelled rows (null when the file has no labels).</summary>
    public double? LabelPositiveShare { get; init; }
    public int? LabelledRows { get; init; }
    public required IReadOnlyList<string> IgnoredColumns { get; init; }

    /// <summary>The first unreadable cells, with line and column, for the reader to fix.</summary>
    public required IReadOnlyList<CellIssue> FirstIssues { get; init; }
    public required int TotalIssues { get; init; }
    public required bool HasReference { get; init; }

    /// <summary>
    /// Columns with no value in any row of a non-empty file: a broken feed or export rather than a share of missing values.
    /// Drift gives these features no verdict, and <c>churn quality</c> exits 2 when there are any.
    /// </summary>
    public IReadOnlyList<string> EmptyColumns { get; init; } = [];
}

/// <summary>Builds <see cref="DataQualityReport"/>s.</summary>
public static class DataQualityAnalyzer
{
    /// <summary>Unseen values listed per column at most, the most frequent first, so a free-text or id-like column keeps the report small.</summary>
    public const int MaxUnseenListed = 20;

    /// <summary>Reads a file leniently (bad cells are counted, not fatal) and reports on it; <paramref name="dialect"/> as in <see cref="DatasetLoader.Load(string, DatasetSchema, LabelRequirement, CsvDialect?)"/>.</summary>
    public static DataQualityReport Analyze(string path, DatasetSchema schema, IReadOnlyList<FeatureProfile>? reference = null, CsvDialect? dialect = null)
    {
        var data = DatasetLoader.Load(path, schema, LabelRequirement.Optional, lenient: true, out var load, dialect);
        return Analyze(data, load, reference);
    }

    /// <summary>Reports on an already loaded dataset.</summary>
    public static DataQualityReport Analyze(Dataset data, LoadReport load, IReadOnlyList<FeatureProfile>? reference = null)
    {
        var unparseable = load.Issues.GroupBy(i => i.ColumnName).ToDictionary(g => g.Key, g => g.Count());
        var columns = new List<ColumnQuality>();
        foreach (var column in data.Columns)
        {
            var name = column.Spec.Name;
            var profile = reference?.FirstOrDefault(p => p.Name == name);
            var rows = Math.Max(1, data.RowCount);
            var bad = unparseable.GetValueOrDefault(name);
            if (column.Categories is { } cats)
            {
                var (levels, present) = column.LevelCounts();
                var missing = cats.Length - present;
                var unseen = profile is null
                    ? []
                    : levels.Where(l => !profile.Frequencies.ContainsKey(l.Key)).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
                columns.Add(new ColumnQuality
                {
                    Column = name,
                    Kind = column.Spec.Kind,
                    MissingShare = (double)missing / rows,
                    Present = cats.Length - missing,
                    Unparseable = bad,
                    UnseenCategories = unseen.OrderByDescending(u => u.Value).ThenBy(u => u.Key, StringComparer.Ordinal).Take(MaxUnseenListed)
                        .ToDictionary(u => u.Key, u => u.Value, StringComparer.Ordinal),
                    UnseenLevels = unseen.Count,
                    UnseenShare = (double)unseen.Values.Sum() / rows,
                });
            }
            else
            {
                var numbers = column.Numbers!;
                // Unparseable cells were read as missing; they are counted once, as unparseable.
                var missing = numbers.Count(double.IsNaN) - bad;
                double? outOfRange = null;
                if (profile is { Min: { } min, Max: { } max } && column.Spec.Kind == FeatureKind.Numeric)
                {
                    var present = numbers.Where(v => !double.IsNaN(v)).ToArray();
                    outOfRange = present.Length == 0 ? 0 : (double)present.Count(v => v < min || v > max) / present.Length;
                }
                columns.Add(new ColumnQuality
                {
                    Column = name,
                    Kind = column.Spec.Kind,
                    MissingShare = (double)missing / rows,
                    Present = numbers.Length - missing - bad,
                    Unparseable = bad,
                    OutOfRangeShare = outOfRange,
                });
            }
        }

        var duplicates = data.Ids.Where(id => id is not null).GroupBy(id => id!, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        return new DataQualityReport
        {
            Rows = data.RowCount,
            Columns = columns,
            DuplicateIds = duplicates.Sum(g => g.Count() - 1),
            DuplicateIdExamples = [.. duplicates.Take(5).Select(g => g.Key)],
            LabelledRows = data.Labels?.Length,
            LabelPositiveShare = data.Labels is { Length: > 0 } l ? (double)l.Count(x => x) / l.Length : null,
            IgnoredColumns = load.IgnoredColumns,
            FirstIssues = [.. load.Issues.Take(20)],
            TotalIssues = load.Issues.Count,
            HasReference = reference is not null,
            EmptyColumns = data.RowCount == 0 ? [] : [.. columns.Where(c => c.Present == 0).Select(c => c.Column)],
        };
    }
}
