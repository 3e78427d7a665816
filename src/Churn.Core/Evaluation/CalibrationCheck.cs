using Churn.Core.Campaigns;

namespace Churn.Core.Evaluation;

/// <summary>
/// Observed against expected churn over labelled predictions: the calibration-in-the-large of a window or segment.
/// Expected churners are the sum of the calibrated probabilities; the ratio observed / expected is 1 for a calibrated
/// model. The interval treats the observed count as a sum of independent Bernoulli outcomes with the predicted
/// probabilities (its variance under calibration is Σ p(1 − p)), the normal approximation used for the
/// observed-to-expected ratio in calibration-in-the-large tests (Steyerberg, 2019, "Clinical Prediction Models",
/// 2nd ed., ch. 15). Probabilities and counts are per prediction; the ratio has no unit.
/// </summary>
/// <param name="Labelled">Labelled predictions the check covers.</param>
/// <param name="Observed">Churners among them.</param>
/// <param name="Expected">Sum of their predicted churn probabilities.</param>
/// <param name="Ratio">Observed over expected; null when nothing was expected.</param>
/// <param name="Low">Lower end of the 95 % interval of the ratio (at least 0); null with <see cref="Ratio"/>.</param>
/// <param name="High">Upper end of the 95 % interval of the ratio; null with <see cref="Ratio"/>.</param>
public sealed record CalibrationCheck(int Labelled, int Observed, double Expected, double? Ratio, double? Low, double? High)
{
    /// <summary>Fewer labelled predictions than this give no ratio: the normal approximation needs a few expected churners.</summary>
    public const int MinLabelled = 20;

    /// <summary>Observed against expected churn over the labelled predictions; null when there are fewer than <see cref="MinLabelled"/>.</summary>
    /// <exception cref="ArgumentException">The lists differ in length, or a probability lies outside [0, 1].</exception>
    public static CalibrationCheck? From(IReadOnlyList<double> probabilities, IReadOnlyList<bool> churned)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(churned);
        if (probabilities.Count != churned.Count)
        {
            throw new ArgumentException($"{probabilities.Count} probabilities but {churned.Count} outcomes.", nameof(churned));
        }
        if (probabilities.Count < MinLabelled)
        {
            return null;
        }
        double expected = 0, variance = 0;
        var observed = 0;
        for (var i = 0; i < probabilities.Count; i++)
        {
            var p = EvaluationInput.RequireProbability(probabilities[i], i, nameof(probabilities));
            expected += p;
            variance += p * (1 - p);
            observed += churned[i] ? 1 : 0;
        }
        if (expected <= 0)
        {
            return new CalibrationCheck(probabilities.Count, observed, expected, null, null, null);
        }
        var ratio = observed / expected;
        var half = ProportionStatistics.Z95 * Math.Sqrt(variance) / expected;
        return new CalibrationCheck(probabilities.Count, observed, expected, ratio, Math.Max(0, ratio - half), ratio + half);
    }

    /// <summary>
    /// True when the interval lies wholly beyond 1 ± <paramref name="tolerance"/>: the model predicts too little churn
    /// (interval above 1 + tolerance) or too much (below 1 − tolerance).
    /// </summary>
    public bool IsMiscalibrated(double tolerance) => Low > 1 + tolerance || High < 1 - tolerance;

    /// <summary>"too little churn predicted" or "too much churn predicted", by which side of 1 the ratio falls.</summary>
    public string Direction => Ratio > 1 ? "too little churn predicted" : "too much churn predicted";
}
