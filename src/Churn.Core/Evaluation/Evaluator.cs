namespace Churn.Core.Evaluation;

/// <summary>Builds the full <see cref="EvaluationReport"/> for a held-out set.</summary>
public static class Evaluator
{
    /// <summary>The shares of rows for which precision at k is reported.</summary>
    private static readonly int[] TopPercents = [1, 5, 10, 20];

    /// <summary>
    /// Computes every metric, sorting the data once. One-class data is allowed: the metrics that
    /// need both classes come back null or empty instead of throwing, because a small held-out
    /// window with no churners is a real situation in monitoring.
    /// </summary>
    /// <param name="probabilities">Calibrated churn probabilities in [0, 1].</param>
    /// <param name="labels">True for churners.</param>
    /// <param name="threshold">The decision threshold, finite.</param>
    /// <exception cref="ArgumentException">Lengths differ, input is empty, a probability is outside [0, 1] or the threshold is not finite.</exception>
    public static EvaluationReport Evaluate(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels, double threshold)
    {
        EvaluationInput.RequireProbabilities(probabilities, labels, nameof(probabilities));
        var confusion = BinaryMetrics.Confusion(probabilities, labels, threshold);
        var ranked = RankedScores.Build(probabilities, labels);
        var bothClasses = ranked.Positives > 0 && ranked.Negatives > 0;

        var precisionAtK = new Dictionary<string, double>(TopPercents.Length);
        foreach (var percent in TopPercents)
        {
            // Integer ceiling: n * 5 / 100.0 can round up past a whole number and add a row.
            var k = Math.Max(1, (int)(((long)ranked.Count * percent + 99) / 100));
            precisionAtK[$"{percent}%"] = Lift.PrecisionAtK(ranked, k);
        }

        return new EvaluationReport
        {
            Rows = ranked.Count,
            Positives = ranked.Positives,
            Auc = bothClasses ? BinaryMetrics.Auc(ranked) : null,
            AucPr = bothClasses ? BinaryMetrics.AucPr(ranked) : null,
            LogLoss = BinaryMetrics.LogLoss(probabilities, labels),
            Brier = BinaryMetrics.Brier(probabilities, labels),
            Threshold = threshold,
            Confusion = confusion,
            Accuracy = confusion.Accuracy,
            Precision = confusion.Precision,
            Recall = confusion.Recall,
            F1 = confusion.F1,
            Lift = Lift.ByDecile(ranked),
            PrecisionAtK = precisionAtK,
            Roc = bothClasses ? Curves.Roc(ranked, Curves.DefaultMaxPoints) : [],
            PrecisionRecall = ranked.Positives > 0 ? Curves.PrecisionRecall(ranked, Curves.DefaultMaxPoints) : [],
            Reliability = Reliability.Curve(probabilities, labels),
        };
    }
}
