namespace Churn.Core.Evaluation;

/// <summary>
/// Threshold-free and threshold-based metrics of a binary churn classifier on a labelled set.
/// Labels are <see langword="true"/> for customers who churned.
/// </summary>
public static class BinaryMetrics
{
    /// <summary>Probabilities are clipped to [Epsilon, 1 - Epsilon] before taking logarithms.</summary>
    public const double LogLossEpsilon = 1e-15;

    /// <summary>
    /// Area under the ROC curve: the probability that a random churner scores above a random
    /// non-churner, counting ties as one half (the Mann-Whitney U statistic with average ranks).
    /// </summary>
    /// <param name="scores">Finite scores or probabilities; higher means more likely to churn.</param>
    /// <param name="labels">True for churners.</param>
    /// <exception cref="ArgumentException">Lengths differ, input is empty or not finite, or only one class is present.</exception>
    public static double Auc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        EvaluationInput.RequireBothClasses(EvaluationInput.CountPositives(labels), labels.Length, nameof(labels));
        return Auc(RankedScores.Build(scores, labels));
    }

    internal static double Auc(RankedScores ranked)
    {
        EvaluationInput.RequireBothClasses(ranked.Positives, ranked.Count, "labels");

        // Ascending 1-based ranks: the group occupying descending positions [i, i + k) holds
        // ranks n - i - k + 1 .. n - i, so twice its average rank is 2n - 2i - k + 1. Working
        // with doubled ranks keeps the whole statistic in exact integer arithmetic, so equal
        // orderings always give bit-identical AUCs.
        long n = ranked.Count;
        long twiceRankSum = 0;
        long position = 0;
        for (var g = 0; g < ranked.Groups; g++)
        {
            long size = ranked.GroupSize(g);
            twiceRankSum += ranked.GroupPositives(g) * ((2 * n) - (2 * position) - size + 1);
            position += size;
        }

        long positives = ranked.Positives;
        long negatives = ranked.Negatives;
        var twiceU = twiceRankSum - (positives * (positives + 1));
        return twiceU / (2.0 * positives * negatives);
    }

    /// <summary>
    /// Average precision, scikit-learn's definition: the sum over distinct thresholds (tied scores
    /// form one threshold) of (R_n - R_{n-1}) * P_n, with R_0 = 0. No interpolation is applied.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, input is empty or not finite, or there is no positive.</exception>
    public static double AucPr(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireScores(scores, labels, nameof(scores));
        return AucPr(RankedScores.Build(scores, labels));
    }

    internal static double AucPr(RankedScores ranked)
    {
        // Recall is undefined without positives; with only positives every precision is 1 and the
        // answer is 1, which is still meaningful, so only the first case is refused.
        ranked.RequirePositives("average precision is undefined.");

        var sum = 0.0;
        var previousTruePositives = 0;
        for (var g = 0; g < ranked.Groups; g++)
        {
            var tp = ranked.CumulativeTruePositives[g];
            if (tp == previousTruePositives)
            {
                continue;
            }
            var precision = (double)tp / (tp + ranked.CumulativeFalsePositives[g]);
            sum += (double)(tp - previousTruePositives) / ranked.Positives * precision;
            previousTruePositives = tp;
        }
        return sum;
    }

    /// <summary>
    /// Mean negative log-likelihood (natural log). Probabilities are clipped to
    /// [<see cref="LogLossEpsilon"/>, 1 - <see cref="LogLossEpsilon"/>] so a confident mistake
    /// costs about 34.5 instead of infinity.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, input is empty, or a probability is outside [0, 1].</exception>
    public static double LogLoss(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireProbabilities(probabilities, labels, nameof(probabilities));
        var sum = 0.0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = Math.Clamp(probabilities[i], LogLossEpsilon, 1.0 - LogLossEpsilon);
            sum -= labels[i] ? Math.Log(p) : Math.Log(1.0 - p);
        }
        return sum / probabilities.Length;
    }

    /// <summary>Brier score: the mean squared difference between probability and outcome (0 or 1).</summary>
    /// <exception cref="ArgumentException">Lengths differ, input is empty, or a probability is outside [0, 1].</exception>
    public static double Brier(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireProbabilities(probabilities, labels, nameof(probabilities));
        var sum = 0.0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var error = probabilities[i] - (labels[i] ? 1.0 : 0.0);
            sum += error * error;
        }
        return sum / probabilities.Length;
    }

    /// <summary>Counts outcomes when a customer is predicted to churn if its probability is at least <paramref name="threshold"/>.</summary>
    /// <param name="probabilities">Finite probabilities or scores; the rule only compares them with the threshold.</param>
    /// <param name="labels">True for churners.</param>
    /// <param name="threshold">A finite cut-off.</param>
    /// <exception cref="ArgumentException">Lengths differ, input is empty, or a value is not finite.</exception>
    public static ConfusionMatrix Confusion(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels, double threshold)
    {
        EvaluationInput.RequireScores(probabilities, labels, nameof(probabilities));
        if (!double.IsFinite(threshold))
        {
            throw new ArgumentException($"threshold is {threshold}; it must be finite.", nameof(threshold));
        }

        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var predicted = probabilities[i] >= threshold;
            if (predicted)
            {
                if (labels[i])
                {
                    tp++;
                }
                else
                {
                    fp++;
                }
            }
            else if (labels[i])
            {
                fn++;
            }
            else
            {
                tn++;
            }
        }
        return new ConfusionMatrix(tp, fp, tn, fn);
    }
}
