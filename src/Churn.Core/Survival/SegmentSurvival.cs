namespace Churn.Core.Survival;

/// <summary>
/// Kaplan–Meier survival curves of groups of customers ("segments": the levels of one categorical or yes/no covariate,
/// such as a contract type or a region) and of all customers together, read on one shared time grid so the curves can
/// be drawn side by side. It describes the data, not a model: each curve is the product-limit estimate of its group
/// (see <see cref="KaplanMeier"/>).
/// </summary>
/// <param name="Times">The grid, ascending from 0 to the longest observed duration, in the duration's unit.</param>
/// <param name="Overall">Kaplan–Meier S(t) of every customer at each of <paramref name="Times"/>.</param>
/// <param name="Columns">One entry per categorical or yes/no covariate, in schema order.</param>
public sealed record SegmentSurvival(IReadOnlyList<double> Times, IReadOnlyList<double> Overall, IReadOnlyList<SegmentColumn> Columns)
{
    /// <summary>At most this many levels of a column get their own curve; the rarer ones are pooled as <see cref="OtherLevel"/>.</summary>
    public const int MaxLevels = 8;

    /// <summary>The grid has at most this many steps after 0.</summary>
    public const int MaxSteps = 24;

    /// <summary>The level name of customers whose value is missing.</summary>
    public const string MissingLevel = "(missing)";

    /// <summary>The level name of the pooled rarer levels.</summary>
    public const string OtherLevel = "(other)";

    /// <summary>
    /// The curves of every categorical and yes/no covariate of <paramref name="data"/>. The grid steps by a whole unit
    /// when every duration is whole (months, days) and there are at most <see cref="MaxSteps"/> of them; otherwise by a
    /// whole number of units (or, for fractional durations, by the span over <see cref="MaxSteps"/>).
    /// </summary>
    public static SegmentSurvival Of(SurvivalData data)
    {
        var longest = data.LongestDuration;
        var whole = data.Durations.All(d => d == Math.Floor(d));
        var step = longest <= 0 ? 1 : whole ? Math.Max(1, Math.Ceiling(longest / MaxSteps)) : longest / MaxSteps;
        var times = new List<double>();
        for (var k = 0; k <= MaxSteps && k * step <= longest + 1e-9; k++)
        {
            times.Add(k * step);
        }
        var columns = new List<SegmentColumn>();
        foreach (var column in data.Covariates.Columns)
        {
            if (column.Spec.Kind == FeatureKind.Numeric)
            {
                continue;
            }
            var levels = new string[data.RowCount];
            for (var i = 0; i < levels.Length; i++)
            {
                levels[i] = column.Categories is { } categories
                    ? categories[i] ?? MissingLevel
                    : double.IsNaN(column.Numbers![i]) ? MissingLevel : column.Numbers[i] != 0 ? "Yes" : "No";
            }
            var kept = levels.GroupBy(l => l, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Take(MaxLevels).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
            var pooled = levels.Select(l => kept.Contains(l) ? l : OtherLevel).ToArray();
            var curves = pooled.Select((level, row) => (level, row)).GroupBy(p => p.level, p => p.row, StringComparer.Ordinal)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g =>
                {
                    var rows = g.ToArray();
                    return new SegmentCurve(g.Key, rows.Length, rows.Count(r => data.Events[r]), Curve([.. rows.Select(r => data.Durations[r])], [.. rows.Select(r => data.Events[r])], times));
                })
                .ToList();
            columns.Add(new SegmentColumn(column.Spec.Name, curves));
        }
        return new SegmentSurvival(times, Curve(data.Durations, data.Events, times), columns);
    }

    private static double[] Curve(IReadOnlyList<double> durations, IReadOnlyList<bool> events, IReadOnlyList<double> times)
    {
        var km = KaplanMeier.Fit(durations, events);
        return [.. times.Select(t => Math.Round(km.At(t), 6))];
    }
}

/// <summary>The Kaplan–Meier curves of the levels of one covariate, most frequent level first.</summary>
public sealed record SegmentColumn(string Column, IReadOnlyList<SegmentCurve> Levels);

/// <summary>The Kaplan–Meier curve of one level.</summary>
/// <param name="Level">The value (or <see cref="SegmentSurvival.MissingLevel"/>, <see cref="SegmentSurvival.OtherLevel"/>).</param>
/// <param name="Customers">Customers with that value.</param>
/// <param name="Events">How many of them churned (the rest are censored).</param>
/// <param name="Survival">S(t) at each time of <see cref="SegmentSurvival.Times"/>.</param>
public sealed record SegmentCurve(string Level, int Customers, int Events, IReadOnlyList<double> Survival);
