namespace Churn.Core.Evaluation;

/// <summary>
/// Chooses the probability threshold at which a customer is flagged as a churn risk. Every
/// distinct probability is a candidate, evaluated in one pass over the sorted data.
/// </summary>
public static class ThresholdSelector
{
    private const int GridSteps = 100;

    /// <summary>
    /// The threshold with the highest F1 on the labelled data. Among equal F1 the higher threshold
    /// wins, since it flags fewer customers for the same quality.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid input or no positives (F1 is then 0 everywhere).</exception>
    public static double ByMaxF1(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels)
    {
        EvaluationInput.RequireProbabilities(probabilities, labels, nameof(probabilities));
        return ByMaxF1(RankedScores.Build(probabilities, labels));
    }

    internal static double ByMaxF1(RankedScores ranked)
    {
        ranked.RequirePositives("F1 is 0 at every threshold.");

        // Thresholds are visited from the highest down and only a strictly better F1 replaces the
        // best, which is what breaks ties toward the higher threshold. F1 = 2TP / (TP + FP + P),
        // a ratio of exact integers, so equal F1 values compare equal.
        var best = ranked.Thresholds[0];
        var bestF1 = -1.0;
        for (var g = 0; g < ranked.Groups; g++)
        {
            var tp = ranked.CumulativeTruePositives[g];
            var f1 = 2.0 * tp / (tp + ranked.CumulativeFalsePositives[g] + ranked.Positives);
            if (f1 > bestF1)
            {
                bestF1 = f1;
                best = ranked.Thresholds[g];
            }
        }
        return best;
    }

    /// <summary>
    /// The threshold that maximises the profit realised on the labelled data when everyone with a
    /// probability at or above it is contacted: contacted churners × success rate × value − contacted × cost.
    /// Contacting nobody (profit 0) is a candidate too; its threshold is the next double above the
    /// highest probability. Among equal profits the higher threshold wins.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid input.</exception>
    public static ThresholdChoice ByProfit(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels, BusinessValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        EvaluationInput.RequireProbabilities(probabilities, labels, nameof(probabilities));
        return ByProfit(RankedScores.Build(probabilities, labels), value);
    }

    internal static ThresholdChoice ByProfit(RankedScores ranked, BusinessValue value)
    {
        var bestThreshold = ranked.AboveMaximum;
        var bestProfit = 0.0;
        var bestContacted = 0;
        for (var g = 0; g < ranked.Groups; g++)
        {
            var tp = ranked.CumulativeTruePositives[g];
            var contacted = tp + ranked.CumulativeFalsePositives[g];
            var profit = Profit(tp, contacted, value);
            if (profit > bestProfit)
            {
                bestProfit = profit;
                bestThreshold = ranked.Thresholds[g];
                bestContacted = contacted;
            }
        }

        return new ThresholdChoice(bestThreshold, bestProfit, ProfitCurve(ranked, value, new ProfitPoint(bestThreshold, bestContacted, bestProfit)));
    }

    /// <summary>
    /// Profit on the fixed grid 0, 0.01, ..., 1 so curves from different models line up on one
    /// chart, with the chosen point inserted so the chart can mark it.
    /// </summary>
    private static List<ProfitPoint> ProfitCurve(RankedScores ranked, BusinessValue value, ProfitPoint chosen)
    {
        var curve = new List<ProfitPoint>(GridSteps + 2);

        // Walking the grid from 1 down to 0 while a cursor moves down the descending scores keeps
        // this linear; the list is reversed at the end to read in ascending threshold order.
        var cursor = 0;
        var tp = 0;
        var chosenAdded = false;
        for (var step = GridSteps; step >= 0; step--)
        {
            var threshold = (double)step / GridSteps;
            if (!chosenAdded && chosen.Threshold >= threshold)
            {
                chosenAdded = true;
                if (chosen.Threshold > threshold)
                {
                    curve.Add(chosen);
                }
            }
            while (cursor < ranked.Count && ranked.Scores[cursor] >= threshold)
            {
                if (ranked.Labels[cursor])
                {
                    tp++;
                }
                cursor++;
            }
            curve.Add(new ProfitPoint(threshold, cursor, Profit(tp, cursor, value)));
        }
        // Probabilities are at least 0, so the chosen threshold was met by the time the grid reached 0.
        curve.Reverse();
        return curve;
    }

    private static double Profit(int contactedChurners, int contacted, BusinessValue value) =>
        (contactedChurners * value.GainPerContactedChurner) - (contacted * value.ContactCost);
}
