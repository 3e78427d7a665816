namespace Churn.Core.Evaluation;

/// <summary>
/// Everything measured on one held-out set at one threshold, as stored in the model card and
/// returned by the API. Values that are undefined for the data are null (AUC with one class) or
/// empty (curves), never NaN, so the report always serializes.
/// </summary>
public sealed record EvaluationReport
{
    /// <summary>Rows evaluated.</summary>
    public required int Rows { get; init; }

    /// <summary>Churners among them.</summary>
    public required int Positives { get; init; }

    /// <summary>ROC AUC; null when only one class is present.</summary>
    public required double? Auc { get; init; }

    /// <summary>Average precision; null when only one class is present.</summary>
    public required double? AucPr { get; init; }

    /// <summary>Mean log-loss with clipping, see <see cref="BinaryMetrics.LogLoss"/>.</summary>
    public required double LogLoss { get; init; }

    /// <summary>Brier score.</summary>
    public required double Brier { get; init; }

    /// <summary>The threshold the threshold-based metrics were computed at.</summary>
    public required double Threshold { get; init; }

    /// <summary>Confusion matrix at <see cref="Threshold"/>.</summary>
    public required ConfusionMatrix Confusion { get; init; }

    /// <summary>Accuracy at <see cref="Threshold"/>.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Precision at <see cref="Threshold"/> (0 when nobody is flagged).</summary>
    public required double Precision { get; init; }

    /// <summary>Recall at <see cref="Threshold"/> (0 when there are no churners).</summary>
    public required double Recall { get; init; }

    /// <summary>F1 at <see cref="Threshold"/> (0 when there are no true positives).</summary>
    public required double F1 { get; init; }

    /// <summary>Lift and cumulative gains by decile, highest scores first.</summary>
    public required IReadOnlyList<DecileLift> Lift { get; init; }

    /// <summary>Precision among the top 1%, 5%, 10% and 20% of rows (rounded up, at least one row), keyed "1%" etc.</summary>
    public required IReadOnlyDictionary<string, double> PrecisionAtK { get; init; }

    /// <summary>ROC curve; empty when only one class is present.</summary>
    public required IReadOnlyList<CurvePoint> Roc { get; init; }

    /// <summary>Precision-recall curve; empty when there are no churners.</summary>
    public required IReadOnlyList<CurvePoint> PrecisionRecall { get; init; }

    /// <summary>Reliability curve with ten equal-width bins.</summary>
    public required IReadOnlyList<ReliabilityBin> Reliability { get; init; }
}
