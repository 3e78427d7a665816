namespace Churn.Core.Evaluation;

/// <summary>
/// Outcome counts at one threshold. Ratios whose denominator is zero are reported as 0 rather
/// than NaN, because NaN cannot be written to the model card JSON.
/// </summary>
/// <param name="TruePositives">Churners predicted to churn.</param>
/// <param name="FalsePositives">Stayers predicted to churn.</param>
/// <param name="TrueNegatives">Stayers predicted to stay.</param>
/// <param name="FalseNegatives">Churners predicted to stay.</param>
public sealed record ConfusionMatrix(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>All rows counted.</summary>
    public int Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;

    /// <summary>Share of rows classified correctly; 0 for an empty matrix.</summary>
    public double Accuracy => Ratio(TruePositives + TrueNegatives, Total);

    /// <summary>Share of predicted churners who churned; 0 when nobody is predicted to churn.</summary>
    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>Share of churners who were predicted; 0 when there are no churners.</summary>
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>
    /// Harmonic mean of precision and recall, computed as 2TP / (2TP + FP + FN); 0 when there
    /// are no true positives.
    /// </summary>
    public double F1 => Ratio(2 * TruePositives, (2 * TruePositives) + FalsePositives + FalseNegatives);

    private static double Ratio(int numerator, int denominator) => denominator == 0 ? 0.0 : (double)numerator / denominator;
}
