using Churn.Core.Evaluation;

namespace Churn.Core.Retraining;

/// <summary>
/// The champion/challenger rule: a challenger replaces the champion only when its ROC AUC on the same held-out rows
/// is at least <see cref="Margin"/> above the champion's. Both models are scored on rows neither trained on, so the
/// comparison is fair to both; the margin keeps a challenger that is better only by noise from replacing a model that
/// works. Pure: it decides from scores and labels and touches nothing.
/// </summary>
public sealed class PromotionPolicy
{
    /// <summary>The metric compared: ROC AUC, which does not depend on the decision threshold either model chose.</summary>
    public const string Metric = "AUC";

    /// <summary>The margin (in AUC) when an operator has not set <c>model.promotion_margin</c>.</summary>
    public const double DefaultMargin = 0.005;

    /// <param name="margin">AUC by which the challenger must beat the champion, from 0 to 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is outside [0, 1] or not a number.</exception>
    public PromotionPolicy(double margin = DefaultMargin)
    {
        if (!(margin is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, "The promotion margin must be between 0 and 1.");
        }
        Margin = margin;
    }

    /// <summary>AUC by which the challenger must beat the champion.</summary>
    public double Margin { get; }

    /// <summary>
    /// Decides from both models' scores on the same held-out rows (probabilities, one per row, in the order of
    /// <paramref name="labels"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The score and label counts differ, or the labels hold only one class (AUC is undefined).</exception>
    public PromotionDecision Decide(
        ReadOnlySpan<double> championScores, ReadOnlySpan<double> challengerScores, ReadOnlySpan<bool> labels, int championVersion, int challengerVersion)
    {
        if (championScores.Length != labels.Length || challengerScores.Length != labels.Length)
        {
            throw new ArgumentException($"Both models must score every held-out row: {championScores.Length} and {challengerScores.Length} scores for {labels.Length} rows.");
        }
        var positives = 0;
        foreach (var label in labels)
        {
            positives += label ? 1 : 0;
        }
        if (positives == 0 || positives == labels.Length)
        {
            throw new ArgumentException($"The {labels.Length} held-out rows hold only one class, so AUC cannot compare the models.");
        }
        return Decide(BinaryMetrics.Auc(championScores, labels), BinaryMetrics.Auc(challengerScores, labels), labels.Length, championVersion, challengerVersion);
    }

    /// <summary>
    /// Decides from both models' AUC on the same <paramref name="heldOutRows"/> held-out rows, or from another ranking
    /// measure on the same 0–1 scale named by <paramref name="metric"/> (a survival model's C-index, which is the AUC of
    /// time-to-event data).
    /// </summary>
    public PromotionDecision Decide(double championAuc, double challengerAuc, int heldOutRows, int championVersion, int challengerVersion, string metric = Metric)
    {
        var promote = challengerAuc >= championAuc + Margin;
        var reason = promote
            ? string.Create(CultureInfo.InvariantCulture,
                $"challenger v{challengerVersion} {metric} {challengerAuc:0.0000} beats champion v{championVersion} {metric} {championAuc:0.0000} by at least {Margin:0.0000} on {heldOutRows} held-out rows")
            : string.Create(CultureInfo.InvariantCulture,
                $"challenger v{challengerVersion} {metric} {challengerAuc:0.0000} does not beat champion v{championVersion} {metric} {championAuc:0.0000} by the margin {Margin:0.0000} on {heldOutRows} held-out rows");
        return new PromotionDecision(promote, metric, championAuc, challengerAuc, Margin, heldOutRows, reason);
    }
}
