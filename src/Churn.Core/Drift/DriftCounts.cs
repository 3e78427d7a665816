using System.Text.Json;
using System.Text.Json.Serialization;
using Churn.Core.Models;

namespace Churn.Core.Drift;

/// <summary>
/// A window's values as counts, enough for the drift verdict without the rows: per feature of a model card's reference
/// profile, and for the champion's scores. Counts of two disjoint windows add up (<see cref="Add"/>) to the counts of
/// their union, so a long window is judged from the stored counts of its parts (ADR 0011).
/// <list type="bullet">
/// <item>A categorical or yes/no feature keeps each level's count, as <see cref="Data.FeatureColumn.LevelCounts"/>
/// counts them: Jensen-Shannon, chi-squared and PSI come out exactly as from the rows.</item>
/// <item>A numeric feature and the score keep their count in each of the reference's ten PSI bins (exact PSI) and on a
/// grid of <see cref="StepsPerStandardDeviation"/> steps per reference standard deviation, centred on the reference
/// mean. Each value moves by at most half a step to its cell's centre, so the Wasserstein distance from counts is
/// within 0.5 / <see cref="StepsPerStandardDeviation"/> reference standard deviations of the exact one.</item>
/// </list>
/// Counts carry no customer id and no row: they are safe to keep beside the log and do not need erasing.
/// </summary>
public sealed class DriftCounts
{
    /// <summary>Grid cells per reference standard deviation for numeric features and the score.</summary>
    public const int StepsPerStandardDeviation = 1000;

    /// <summary>Rows counted (every row of the window, whatever its model version).</summary>
    public long Rows { get; set; }

    /// <summary>Counts per feature, by feature name; only features of the card's reference profile.</summary>
    public Dictionary<string, FeatureCounts> Features { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The champion's scores (only rows the card's own version scored), or null when none were counted.</summary>
    public FeatureCounts? Score { get; set; }

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>
    /// Counts <paramref name="current"/> (and <paramref name="scores"/>, the card's own version's scores, when given)
    /// against <paramref name="card"/>'s reference. Columns the reference does not profile are left out.
    /// </summary>
    public static DriftCounts Of(ModelCard card, Dataset current, IReadOnlyList<double>? scores = null)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(current);
        var counts = new DriftCounts { Rows = current.RowCount };
        foreach (var column in current.Columns)
        {
            if (card.Reference.FirstOrDefault(p => p.Name == column.Spec.Name) is not { } profile)
            {
                continue;
            }
            counts.Features[profile.Name] = column.Spec.Kind == FeatureKind.Numeric
                ? FeatureCounts.OfNumbers(profile, column.Numbers!)
                : FeatureCounts.OfLevels(column);
        }
        if (scores is { Count: > 0 } && DriftDetector.ScoreProfile(card.ScoreReference) is { } scoreProfile)
        {
            counts.Score = FeatureCounts.OfNumbers(scoreProfile, scores);
        }
        return counts;
    }

    /// <summary>Adds <paramref name="other"/>'s counts (of a disjoint window, against the same card) to these.</summary>
    public void Add(DriftCounts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Rows += other.Rows;
        foreach (var (name, feature) in other.Features)
        {
            if (Features.TryGetValue(name, out var mine))
            {
                mine.Add(feature);
            }
            else
            {
                Features[name] = feature.Copy();
            }
        }
        if (other.Score is { } score)
        {
            if (Score is null)
            {
                Score = score.Copy();
            }
            else
            {
                Score.Add(score);
            }
        }
    }

    /// <summary>The counts as JSON text (the store's form).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Counts read back from <see cref="ToJson"/>'s text.</summary>
    /// <exception cref="JsonException">The text is not counts.</exception>
    public static DriftCounts FromJson(string json) =>
        JsonSerializer.Deserialize<DriftCounts>(json, Json) ?? throw new JsonException("The drift counts are empty.");
}

/// <summary>One feature's (or the score's) counts in a window; see <see cref="DriftCounts"/>.</summary>
public sealed class FeatureCounts
{
    /// <summary>Rows counted, missing values included.</summary>
    public long Rows { get; set; }

    /// <summary>Values present (not missing).</summary>
    public long Present { get; set; }

    /// <summary>Numeric: count per grid cell, by cell index (see <see cref="DriftCounts"/>); null for a categorical feature.</summary>
    public Dictionary<long, long>? Cells { get; init; }

    /// <summary>Numeric: count per reference PSI bin (10), or empty when the reference has no bins; null for a categorical feature.</summary>
    public long[]? Bins { get; init; }

    /// <summary>Categorical and yes/no: count per level ("true"/"false" for yes/no); null for a numeric feature.</summary>
    public Dictionary<string, long>? Levels { get; init; }

    /// <summary>The width of one grid cell for <paramref name="reference"/>, in the feature's units.</summary>
    public static double Step(FeatureProfile reference) =>
        (reference.StandardDeviation is { } sd and > 0 ? sd : 1) / DriftCounts.StepsPerStandardDeviation;

    /// <summary>The grid's origin for <paramref name="reference"/>: cell 0 is centred on the reference mean.</summary>
    public static double Origin(FeatureProfile reference) => reference.Mean ?? 0;

    /// <summary>A numeric feature's counts: NaN is missing.</summary>
    public static FeatureCounts OfNumbers(FeatureProfile reference, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(values);
        var (step, origin) = (Step(reference), Origin(reference));
        var withBins = reference.BinEdges.Count == 11;
        var counts = new FeatureCounts { Rows = values.Count, Cells = [], Bins = new long[withBins ? 10 : 0] };
        foreach (var v in values)
        {
            if (double.IsNaN(v))
            {
                continue;
            }
            counts.Present++;
            var cell = Cell(v, origin, step);
            counts.Cells[cell] = counts.Cells.GetValueOrDefault(cell) + 1;
            if (withBins)
            {
                counts.Bins[ReferenceProfiler.Bin(reference.BinEdges, v)]++;
            }
        }
        return counts;
    }

    /// <summary>A categorical or yes/no column's level counts, as <see cref="Data.FeatureColumn.LevelCounts"/> counts them.</summary>
    public static FeatureCounts OfLevels(FeatureColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var (levels, present) = column.LevelCounts();
        return new FeatureCounts
        {
            Rows = column.Categories?.Length ?? column.Numbers!.Length,
            Present = present,
            Levels = levels.ToDictionary(l => l.Key, l => (long)l.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// The values the grid keeps, sorted, each at its cell's centre, with their counts (for <paramref name="reference"/>'s grid).
    /// </summary>
    public (double[] Values, long[] Counts) SortedCells(FeatureProfile reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var (step, origin) = (Step(reference), Origin(reference));
        var cells = (Cells ?? []).OrderBy(c => c.Key).ToArray();
        return ([.. cells.Select(c => Centre(c.Key, origin, step))], [.. cells.Select(c => c.Value)]);
    }

    /// <summary>
    /// <paramref name="value"/> moved to the centre of its cell on <paramref name="reference"/>'s grid: the value the
    /// counts keep for it, so two equal values stay equal on either side of a comparison.
    /// </summary>
    public static double OnGrid(FeatureProfile reference, double value)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var (step, origin) = (Step(reference), Origin(reference));
        return Centre(Cell(value, origin, step), origin, step);
    }

    /// <summary>
    /// The most cells from the origin a value is counted at: 10^15 cells are 10^12 reference standard deviations, so a
    /// value further out (up to ±1.8e308) still counts as that far out on its own side, where the cast to a cell index
    /// would otherwise overflow.
    /// </summary>
    private const double FarthestCell = 1e15;

    private static long Cell(double value, double origin, double step) =>
        (long)Math.Round(Math.Clamp((value - origin) / step, -FarthestCell, FarthestCell), MidpointRounding.AwayFromZero);

    private static double Centre(long cell, double origin, double step) => origin + (cell * step);

    internal void Add(FeatureCounts other)
    {
        Rows += other.Rows;
        Present += other.Present;
        if (Cells is not null && other.Cells is not null)
        {
            foreach (var (cell, count) in other.Cells)
            {
                Cells[cell] = Cells.GetValueOrDefault(cell) + count;
            }
        }
        if (Bins is not null && other.Bins is not null && Bins.Length == other.Bins.Length)
        {
            for (var b = 0; b < Bins.Length; b++)
            {
                Bins[b] += other.Bins[b];
            }
        }
        if (Levels is not null && other.Levels is not null)
        {
            foreach (var (level, count) in other.Levels)
            {
                Levels[level] = Levels.GetValueOrDefault(level) + count;
            }
        }
    }

    internal FeatureCounts Copy() => new()
    {
        Rows = Rows,
        Present = Present,
        Cells = Cells is null ? null : new Dictionary<long, long>(Cells),
        Bins = Bins is null ? null : [.. Bins],
        Levels = Levels is null ? null : new Dictionary<string, long>(Levels, StringComparer.Ordinal),
    };
}
