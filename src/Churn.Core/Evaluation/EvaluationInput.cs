namespace Churn.Core.Evaluation;

/// <summary>Argument checks shared by every evaluation entry point, so each fails the same way.</summary>
internal static class EvaluationInput
{
    /// <summary>Scores may be any finite number (raw margins or probabilities).</summary>
    public static void RequireScores(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, string scoresName)
    {
        RequireShape(scores.Length, labels.Length, scoresName);
        for (var i = 0; i < scores.Length; i++)
        {
            // NaN would make sorting and every comparison meaningless, and infinities would leak
            // into curve thresholds that must serialize as JSON numbers.
            if (!double.IsFinite(scores[i]))
            {
                throw new ArgumentException($"{scoresName}[{i}] is {scores[i]}; every score must be finite.", scoresName);
            }
        }
    }

    /// <summary>Probabilities must be finite and within [0, 1].</summary>
    public static void RequireProbabilities(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels, string probabilitiesName)
    {
        RequireShape(probabilities.Length, labels.Length, probabilitiesName);
        for (var i = 0; i < probabilities.Length; i++)
        {
            RequireProbability(probabilities[i], i, probabilitiesName);
        }
    }

    /// <summary>
    /// One probability of a list: finite and within [0, 1]. The negated comparison also refuses NaN. Returns
    /// <paramref name="p"/> so callers that sum as they go check each value in the same pass.
    /// </summary>
    public static double RequireProbability(double p, int index, string probabilitiesName) =>
        p is >= 0.0 and <= 1.0
            ? p
            : throw new ArgumentException($"{probabilitiesName}[{index}] is {p}; probabilities must lie in [0, 1].", probabilitiesName);

    public static int CountPositives(ReadOnlySpan<bool> labels)
    {
        var positives = 0;
        foreach (var label in labels)
        {
            if (label)
            {
                positives++;
            }
        }
        return positives;
    }

    public static void RequireBothClasses(int positives, int count, string labelsName)
    {
        if (positives == 0 || positives == count)
        {
            throw new ArgumentException(
                $"{labelsName} holds only {(positives == 0 ? "negatives" : "positives")}; the metric needs both classes.",
                labelsName);
        }
    }

    private static void RequireShape(int valuesLength, int labelsLength, string valuesName)
    {
        if (valuesLength != labelsLength)
        {
            throw new ArgumentException($"{valuesName} has {valuesLength} values but labels has {labelsLength}.", valuesName);
        }
        if (valuesLength == 0)
        {
            throw new ArgumentException($"{valuesName} is empty.", valuesName);
        }
    }
}
