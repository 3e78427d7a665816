using Churn.Core.Evaluation;

namespace Churn.Server.Dashboard;

/// <summary>
/// What a threshold would have done on a model's test split, read from the ROC curve in its card (each point holds the
/// true and false positive rates at one threshold), so the dashboard can move the threshold without the raw scores.
/// </summary>
public static class ThresholdTradeoff
{
    public static ConfusionMatrix At(EvaluationReport metrics, double threshold)
    {
        var positives = metrics.Positives;
        var negatives = metrics.Rows - metrics.Positives;
        // Scores at or above a point's threshold count as churners; the lowest such threshold still at or above ours applies.
        var point = metrics.Roc.Where(p => p.Threshold >= threshold).OrderBy(p => p.Threshold).FirstOrDefault();
        var tp = (int)Math.Round((point?.Y ?? 0) * positives);
        var fp = (int)Math.Round((point?.X ?? 0) * negatives);
        return new ConfusionMatrix(tp, fp, negatives - fp, positives - tp);
    }

    /// <summary>Expected profit of contacting everyone at or above the threshold: saved churners' value less contact costs.</summary>
    public static double Profit(ConfusionMatrix matrix, BusinessValue value) =>
        (matrix.TruePositives * value.GainPerContactedChurner) - ((matrix.TruePositives + matrix.FalsePositives) * value.ContactCost);
}
