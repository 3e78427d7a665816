namespace Churn.Core.Evaluation;

/// <summary>
/// Performance expected from calibrated probabilities alone, for predictions whose outcomes are not known yet
/// (confidence-based performance estimation). Each prediction contributes its probability p to the expected
/// churners: a customer flagged at the threshold is a true positive with probability p and a false positive with
/// 1 - p; one not flagged is a false negative with p and a true negative with 1 - p. The estimate is only as good
/// as the calibration and assumes the churn mechanism has not changed (covariate shift only).
/// </summary>
/// <param name="Rows">Predictions the estimate covers.</param>
/// <param name="ExpectedPositiveShare">Mean probability: the expected churn rate.</param>
public sealed record EstimatedPerformance(int Rows, double ExpectedPositiveShare, double Accuracy, double Precision, double Recall, double F1)
{
    /// <summary>Estimates accuracy, precision, recall and F1 at <paramref name="threshold"/>; null when there are no rows.</summary>
    /// <exception cref="ArgumentException">A probability is outside [0, 1].</exception>
    public static EstimatedPerformance? From(ReadOnlySpan<double> probabilities, double threshold)
    {
        if (probabilities.IsEmpty)
        {
            return null;
        }
        double tp = 0, fp = 0, tn = 0, fn = 0, sum = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = EvaluationInput.RequireProbability(probabilities[i], i, nameof(probabilities));
            sum += p;
            if (p >= threshold)
            {
                tp += p;
                fp += 1 - p;
            }
            else
            {
                fn += p;
                tn += 1 - p;
            }
        }
        var n = probabilities.Length;
        return new EstimatedPerformance(
            n,
            sum / n,
            (tp + tn) / n,
            Ratio(tp, tp + fp),
            Ratio(tp, tp + fn),
            Ratio(2 * tp, (2 * tp) + fp + fn));
    }

    private static double Ratio(double numerator, double denominator) => denominator <= 0 ? 0.0 : numerator / denominator;
}
