namespace Churn.Core.Evaluation;

/// <summary>
/// ROC and precision-recall curves with one point per distinct score, thinned to a size a chart
/// or a model card can carry.
/// </summary>
public static class Curves
{
    /// <summary>Default cap on points per curve.</summary>
    public const int DefaultMaxPoints = 101;

    /// <summary>
    /// ROC curve from (0, 0) to (1, 1), thresholds descending. The first point's threshold is the
    /// next double above the highest score (nobody predicted positive), standing in for +infinity.
    /// </summary>
    /// <param name="scores">Finite scores or probabilities.</param>
    /// <param name="labels">True for churners.</param>
    /// <param name="maxPoints">At least 2; both end points are always kept.</param>
    /// <exception cref="ArgumentException">Invalid input or only one class present.</exception>
    public static IReadOnlyList<CurvePoint> Roc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, int maxPoints = DefaultMaxPoints)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        RequireMaxPoints(maxPoints);
        return Roc(RankedScores.Build(scores, labels), maxPoints);
    }

    internal static IReadOnlyList<CurvePoint> Roc(RankedScores ranked, int maxPoints)
    {
        EvaluationInput.RequireBothClasses(ranked.Positives, ranked.Count, "labels");
        var points = new CurvePoint[ranked.Groups + 1];
        points[0] = new CurvePoint(0.0, 0.0, ranked.AboveMaximum);
        for (var g = 0; g < ranked.Groups; g++)
        {
            points[g + 1] = new CurvePoint(
                (double)ranked.CumulativeFalsePositives[g] / ranked.Negatives,
                (double)ranked.CumulativeTruePositives[g] / ranked.Positives,
                ranked.Thresholds[g]);
        }
        return Downsample(points, maxPoints);
    }

    /// <summary>
    /// Precision-recall curve, thresholds descending (recall rising). Like scikit-learn, it starts
    /// at recall 0, precision 1, with the "nobody predicted" threshold described on <see cref="Roc(ReadOnlySpan{double}, ReadOnlySpan{bool}, int)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid input or no positives (recall undefined).</exception>
    public static IReadOnlyList<CurvePoint> PrecisionRecall(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, int maxPoints = DefaultMaxPoints)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        RequireMaxPoints(maxPoints);
        return PrecisionRecall(RankedScores.Build(scores, labels), maxPoints);
    }

    internal static IReadOnlyList<CurvePoint> PrecisionRecall(RankedScores ranked, int maxPoints)
    {
        ranked.RequirePositives("recall is undefined.");
        var points = new CurvePoint[ranked.Groups + 1];
        points[0] = new CurvePoint(0.0, 1.0, ranked.AboveMaximum);
        for (var g = 0; g < ranked.Groups; g++)
        {
            var tp = ranked.CumulativeTruePositives[g];
            points[g + 1] = new CurvePoint(
                (double)tp / ranked.Positives,
                (double)tp / (tp + ranked.CumulativeFalsePositives[g]),
                ranked.Thresholds[g]);
        }
        return Downsample(points, maxPoints);
    }

    /// <summary>
    /// Keeps at most <paramref name="maxPoints"/> points evenly spaced by index, always including
    /// the first and last. Even spacing by index follows the data density, which is where the
    /// curve bends.
    /// </summary>
    internal static IReadOnlyList<T> Downsample<T>(T[] points, int maxPoints)
    {
        if (points.Length <= maxPoints)
        {
            return points;
        }
        var kept = new T[maxPoints];
        var last = points.Length - 1;
        for (var i = 0; i < maxPoints; i++)
        {
            // Integer arithmetic keeps the indices strictly increasing and hits both ends exactly.
            kept[i] = points[(int)((long)i * last / (maxPoints - 1))];
        }
        return kept;
    }

    private static void RequireMaxPoints(int maxPoints)
    {
        if (maxPoints < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPoints), maxPoints, "A curve needs at least its two end points.");
        }
    }
}
